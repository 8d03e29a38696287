// Package model holds the parts of the receiver's metric model that
// metadata.yaml cannot describe: the histograms, built by hand with the same
// naming and units as the generated metrics.
package model // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/model"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// HistogramDef names and describes one histogram metric of the model.
type HistogramDef struct {
	Name        string
	Description string
	Unit        string
}

// The histogram metrics of the model.
var (
	ScheduleDuration = HistogramDef{
		Name:        "go.schedule.duration",
		Description: "The time goroutines have spent in the scheduler in a runnable state before actually running.",
		Unit:        "s",
	}
	GCPauseDuration = HistogramDef{
		Name:        "go.memory.gc.pause.duration",
		Description: "Distribution of individual stop-the-world pauses caused by the garbage collector.",
		Unit:        "s",
	}
)

// AppendRuntimeHistogram appends def as a cumulative explicit-bucket histogram
// with one data point converted from a runtime/metrics histogram, given as its
// bucket boundaries (len(counts)+1 of them, the first possibly -Inf, the last
// possibly +Inf) and counts.
//
// The runtime's bucket i holds values in [boundaries[i], boundaries[i+1]); the
// OpenTelemetry bucket i holds values in (bounds[i-1], bounds[i]]. The interior
// boundaries carry over unchanged and the counts keep their order, so no
// resolution is lost; only a value exactly on a boundary would be placed one
// bucket lower. The runtime gives no sum, so the data point has none.
//
// It returns false and appends nothing when the shapes do not match.
func AppendRuntimeHistogram(ms pmetric.MetricSlice, def HistogramDef, start, ts pcommon.Timestamp, boundaries []float64, counts []uint64) bool {
	if len(counts) == 0 || len(boundaries) != len(counts)+1 {
		return false
	}
	m := ms.AppendEmpty()
	m.SetName(def.Name)
	m.SetDescription(def.Description)
	m.SetUnit(def.Unit)
	h := m.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := h.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.ExplicitBounds().FromRaw(boundaries[1 : len(boundaries)-1])
	dp.BucketCounts().FromRaw(counts)
	var total uint64
	for _, c := range counts {
		total += c
	}
	dp.SetCount(total)
	// Min and max are known only to bucket precision, so neither is set.
	return true
}
