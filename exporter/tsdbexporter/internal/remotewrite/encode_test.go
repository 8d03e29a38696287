package remotewrite

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// toProto builds prompb's own structs for the same series, the reference
// the hand-written encoder must match byte for byte.
func toProto(list []*series) []prompb.TimeSeries {
	out := make([]prompb.TimeSeries, 0, len(list))
	for _, s := range list {
		ts := prompb.TimeSeries{Samples: s.samples, Histograms: s.histograms, Labels: make([]prompb.Label, 0, s.labels.Len())}
		s.labels.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
		out = append(out, ts)
	}
	return out
}

func TestAppendWriteRequestMatchesPrompb(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []float64{0, math.Copysign(0, -1), 1, -2.5, math.NaN(), math.Inf(1), math.Float64frombits(0x7ff0000000000002), 1e300}
	stamps := []int64{0, 1, -1, 1_763_700_000_000, math.MaxInt64, math.MinInt64, 127, 128}
	for round := range 200 {
		var list []*series
		for i := range rng.IntN(6) {
			b := labels.NewScratchBuilder(0)
			b.Add("__name__", "m"+strconv.Itoa(i))
			for j := range rng.IntN(4) {
				v := ""
				if rng.IntN(3) > 0 {
					v = string(make([]byte, rng.IntN(300))) + strconv.Itoa(j)
				}
				b.Add("l"+strconv.Itoa(j), v)
			}
			b.Sort()
			s := &series{labels: b.Labels()}
			for range rng.IntN(5) {
				s.samples = append(s.samples, prompb.Sample{Value: values[rng.IntN(len(values))], Timestamp: stamps[rng.IntN(len(stamps))]})
			}
			if rng.IntN(4) == 0 {
				h := &histogram.Histogram{Count: 3, Sum: 1.5, Schema: 3, ZeroCount: 1, PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{1, 0}}
				s.histograms = append(s.histograms, prompb.FromIntHistogram(stamps[rng.IntN(len(stamps))], h))
			}
			list = append(list, s)
		}
		want, err := (&prompb.WriteRequest{Timeseries: toProto(list)}).Marshal()
		require.NoError(t, err)
		got := appendWriteRequest(nil, list)
		require.Equal(t, string(want), string(got), "round %d", round)
	}
}
