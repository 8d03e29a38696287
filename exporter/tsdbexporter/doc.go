// Package tsdbexporter writes metrics into an embedded Prometheus TSDB through
// Prometheus' own OTLP translation, and serves the Prometheus HTTP query API
// over it.
//
//go:generate go tool -modfile=../../tools.mod mdatagen metadata.yaml
package tsdbexporter // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter"
