package model

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// GCCyclePauseDuration is the per-GC-cycle stop-the-world time read from the
// memstats pause ring. It differs from GCPauseDuration, which counts each
// pause: a GC cycle has about two.
var GCCyclePauseDuration = HistogramDef{
	Name:        "go.memory.gc.cycle.pause.duration",
	Description: "Distribution of the stop-the-world time of each GC cycle (the sum of the cycle's pauses), every cycle counted exactly once.",
	Unit:        "s",
}

// ExpScale is the scale of the exponential histograms the model builds:
// bucket boundaries grow by 2^(1/8), about 9%.
const ExpScale = 3

// ExpHistogram accumulates observations into a cumulative exponential
// histogram: count and sum are exact, buckets have the resolution of
// ExpScale.
type ExpHistogram struct {
	count, zero uint64
	sum         float64
	offset      int32 // index of counts[0]
	counts      []uint64
}

// Observe adds one value (non-negative; negative values count as zero).
func (h *ExpHistogram) Observe(v float64) {
	h.count++
	if v <= 0 || math.IsNaN(v) {
		h.zero++
		return
	}
	h.sum += v
	i := bucketIndex(v)
	switch {
	case len(h.counts) == 0:
		h.offset = i
		h.counts = append(h.counts, 0)
	case i < h.offset:
		grown := make([]uint64, int(h.offset-i)+len(h.counts))
		copy(grown[h.offset-i:], h.counts)
		h.counts, h.offset = grown, i
	case int(i-h.offset) >= len(h.counts):
		h.counts = append(h.counts, make([]uint64, int(i-h.offset)-len(h.counts)+1)...)
	}
	h.counts[i-h.offset]++
}

// bucketIndex is the index of the bucket (base^i, base^(i+1)] holding v.
func bucketIndex(v float64) int32 {
	frac, exp := math.Frexp(v) // v = frac * 2^exp, frac in [0.5, 1)
	if frac == 0.5 {
		// Exact powers of two sit on a boundary: the bucket below.
		return int32((exp-1)<<ExpScale) - 1
	}
	return int32(math.Ceil(math.Log2(v)*(1<<ExpScale))) - 1
}

// Count is the number of observations.
func (h *ExpHistogram) Count() uint64 { return h.count }

// Sum is the sum of the observations.
func (h *ExpHistogram) Sum() float64 { return h.sum }

// Reset forgets every observation.
func (h *ExpHistogram) Reset() { *h = ExpHistogram{} }

// AppendTo appends def with one cumulative data point holding h.
func (h *ExpHistogram) AppendTo(ms pmetric.MetricSlice, def HistogramDef, start, ts pcommon.Timestamp) {
	m := ms.AppendEmpty()
	m.SetName(def.Name)
	m.SetDescription(def.Description)
	m.SetUnit(def.Unit)
	eh := m.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := eh.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.SetScale(ExpScale)
	dp.SetCount(h.count)
	dp.SetSum(h.sum)
	dp.SetZeroCount(h.zero)
	dp.Positive().SetOffset(h.offset)
	dp.Positive().BucketCounts().FromRaw(h.counts)
}
