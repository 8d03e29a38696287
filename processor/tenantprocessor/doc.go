// Package tenantprocessor puts every metric stream in exactly one tenant,
// written as a resource attribute that always overwrites what the sender put
// there, and adds configured namespace labels to every data point.
//
//go:generate go tool -modfile=../../tools.mod mdatagen metadata.yaml
package tenantprocessor // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor"
