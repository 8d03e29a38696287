package model

import (
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestAppendRuntimeHistogram(t *testing.T) {
	ms := pmetric.NewMetricSlice()
	bounds := []float64{math.Inf(-1), 0.001, 0.01, 0.1, math.Inf(1)}
	counts := []uint64{1, 2, 3, 4}
	if !AppendRuntimeHistogram(ms, GCPauseDuration, 10, 20, bounds, counts) {
		t.Fatal("valid histogram refused")
	}
	m := ms.At(0)
	if m.Name() != "go.memory.gc.pause.duration" || m.Unit() != "s" || m.Type() != pmetric.MetricTypeHistogram {
		t.Fatalf("got %s %s %v", m.Name(), m.Unit(), m.Type())
	}
	if m.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
		t.Error("histogram must be cumulative")
	}
	dp := m.Histogram().DataPoints().At(0)
	if got := dp.ExplicitBounds().AsRaw(); len(got) != 3 || got[0] != 0.001 || got[2] != 0.1 {
		t.Errorf("bounds %v, want the interior boundaries", got)
	}
	if got := dp.BucketCounts().AsRaw(); len(got) != 4 || got[3] != 4 {
		t.Errorf("counts %v", got)
	}
	if dp.Count() != 10 || dp.HasSum() || dp.StartTimestamp() != 10 || dp.Timestamp() != 20 {
		t.Errorf("count %d, has sum %v, start %d, ts %d", dp.Count(), dp.HasSum(), dp.StartTimestamp(), dp.Timestamp())
	}
	// The data point owns its slices: changing the source changes nothing.
	counts[3] = 99
	if dp.BucketCounts().At(3) != 4 {
		t.Error("data point shares memory with the runtime's histogram")
	}
}

func TestAppendRuntimeHistogramRejectsBadShapes(t *testing.T) {
	ms := pmetric.NewMetricSlice()
	if AppendRuntimeHistogram(ms, ScheduleDuration, 0, 0, []float64{0, 1}, []uint64{1, 2}) {
		t.Error("mismatched lengths accepted")
	}
	if AppendRuntimeHistogram(ms, ScheduleDuration, 0, 0, []float64{0}, nil) {
		t.Error("empty histogram accepted")
	}
	if ms.Len() != 0 {
		t.Errorf("%d metrics appended for bad input", ms.Len())
	}
}
