package model

import (
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestBucketIndex(t *testing.T) {
	base := math.Pow(2, 1.0/(1<<ExpScale))
	for _, v := range []float64{1e-6, 3.3e-5, 0.001, 0.0123, 0.5, 1, 2, 3, 1000} {
		i := bucketIndex(v)
		lower, upper := math.Pow(base, float64(i)), math.Pow(base, float64(i+1))
		if !(v > lower*(1-1e-12) && v <= upper*(1+1e-12)) {
			t.Errorf("%g in bucket %d = (%g, %g]", v, i, lower, upper)
		}
	}
	if bucketIndex(1) != -1 || bucketIndex(2) != (1<<ExpScale)-1 {
		t.Errorf("powers of two must close their bucket: 1 -> %d, 2 -> %d", bucketIndex(1), bucketIndex(2))
	}
}

func TestExpHistogram(t *testing.T) {
	var h ExpHistogram
	values := []float64{0.001, 0.0001, 0.01, 0, 0.001, 0.5}
	var sum float64
	for _, v := range values {
		h.Observe(v)
		sum += v
	}
	ms := pmetric.NewMetricSlice()
	h.AppendTo(ms, GCCyclePauseDuration, 1, 2)
	dp := ms.At(0).ExponentialHistogram().DataPoints().At(0)
	if dp.Count() != 6 || dp.ZeroCount() != 1 || dp.Sum() != sum || dp.Scale() != ExpScale {
		t.Fatalf("count %d zero %d sum %g scale %d", dp.Count(), dp.ZeroCount(), dp.Sum(), dp.Scale())
	}
	var inBuckets uint64
	for _, c := range dp.Positive().BucketCounts().AsRaw() {
		inBuckets += c
	}
	if inBuckets != 5 {
		t.Errorf("%d observations in buckets, want 5", inBuckets)
	}
	if dp.Positive().Offset() != bucketIndex(0.0001) {
		t.Errorf("offset %d, want the smallest value's bucket %d", dp.Positive().Offset(), bucketIndex(0.0001))
	}
	if got := dp.Positive().BucketCounts().At(int(bucketIndex(0.001) - dp.Positive().Offset())); got != 2 {
		t.Errorf("bucket of 0.001 holds %d, want 2", got)
	}
	h.Reset()
	if h.Count() != 0 || h.Sum() != 0 {
		t.Error("reset kept observations")
	}
}
