// Package goruntimereceiver pulls Go runtime metrics into one model named
// after the OpenTelemetry semantic conventions for Go. The first source is the
// collector's own process, read through runtime/metrics.
//
//go:generate go tool -modfile=../../tools.mod mdatagen metadata.yaml
package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"
