package store

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var base = time.Now().Truncate(time.Second)

// gauge builds one resource with one int gauge point per value, at base+i s.
func batch(name string, temporality pmetric.AggregationTemporality, values ...int64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	rm.Resource().Attributes().PutStr("service.instance.id", "i-1")
	rm.Resource().Attributes().PutStr("tenant", "team-a")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit("By")
	s := m.SetEmptySum()
	s.SetIsMonotonic(false)
	s.SetAggregationTemporality(temporality)
	for i, v := range values {
		dp := s.DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * time.Second)))
		dp.SetIntValue(v)
	}
	return md
}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Path: dir, Retention: 24 * time.Hour, OutOfOrderWindow: 10 * time.Minute, PromoteResourceAttributes: []string{"tenant"}})
	require.NoError(t, err)
	return s
}

type sample struct {
	labels labels.Labels
	t      int64
	v      float64
}

func selectAll(t *testing.T, q storage.Queryable, ms ...*labels.Matcher) []sample {
	t.Helper()
	qr, err := q.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer func() { require.NoError(t, qr.Close()) }()
	var out []sample
	set := qr.Select(context.Background(), true, nil, ms...)
	for set.Next() {
		it := set.At().Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt == chunkenc.ValFloat {
				ts, v := it.At()
				out = append(out, sample{set.At().Labels(), ts, v})
				continue
			}
			// A histogram sample is counted by its observation count.
			ts, fh := it.AtFloatHistogram(nil)
			out = append(out, sample{set.At().Labels(), ts, fh.Count})
		}
		require.NoError(t, it.Err())
	}
	require.NoError(t, set.Err())
	return out
}

func TestWriteNamesLabelsAndValues(t *testing.T) {
	s := open(t, t.TempDir())
	defer func() { require.NoError(t, s.Close()) }()
	stats, err := s.Write(context.Background(), batch("go.memory.used", pmetric.AggregationTemporalityCumulative, 10, 20, 30))
	require.NoError(t, err)
	// Three samples of the metric and two of target_info.
	assert.Equal(t, 5, stats.Appended)

	got := selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "go_memory_used_bytes"))
	require.Len(t, got, 3)
	assert.Equal(t, "team-a", got[0].labels.Get("tenant"))
	assert.Equal(t, "api", got[0].labels.Get("job"))
	assert.Equal(t, "i-1", got[0].labels.Get("instance"))
	for i, want := range []float64{10, 20, 30} {
		assert.Equal(t, want, got[i].v)
		assert.Equal(t, base.Add(time.Duration(i)*time.Second).UnixMilli(), got[i].t)
	}
	info := selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "target_info"))
	assert.NotEmpty(t, info)
}

func TestRefusedSamplesAreCountedAndTheRestIsWritten(t *testing.T) {
	s, err := Open(Options{Path: t.TempDir(), Retention: time.Hour})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	_, err = s.Write(context.Background(), batch("g", pmetric.AggregationTemporalityCumulative, 1, 2, 3))
	require.NoError(t, err)

	// The same timestamps again with other values and no out-of-order
	// window: the older two are out of order, the newest is a duplicate,
	// and target_info's sample at the batch's first timestamp is out of
	// order too. A new series in the same batch is still written.
	md := batch("g", pmetric.AggregationTemporalityCumulative, 7, 8, 9)
	batch("h", pmetric.AggregationTemporalityCumulative, 4).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	stats, err := s.Write(context.Background(), md)
	require.NoError(t, err)
	assert.Equal(t, 3, stats.Rejected[ReasonOutOfOrder])
	assert.Equal(t, 1, stats.Rejected[ReasonDuplicateTimestamp])

	got := selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "g_bytes"))
	require.Len(t, got, 3)
	assert.Equal(t, []float64{1, 2, 3}, []float64{got[0].v, got[1].v, got[2].v}, "the first write must stand")
	assert.Len(t, selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "h_bytes")), 1)
}

func TestOutOfOrderWindowAcceptsLateSamples(t *testing.T) {
	s := open(t, t.TempDir())
	defer func() { require.NoError(t, s.Close()) }()
	late := batch("g", pmetric.AggregationTemporalityCumulative, 1, 2, 3)
	dps := late.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
	// Newest first, as two batches of the collector may arrive.
	dps.At(0).SetTimestamp(pcommon.NewTimestampFromTime(base.Add(5 * time.Minute)))
	stats, err := s.Write(context.Background(), late)
	require.NoError(t, err)
	assert.Equal(t, [NumReasons]int{}, stats.Rejected)
	assert.Len(t, selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "g_bytes")), 3)
}

func TestDeltaIsRefusedWithoutLosingTheRest(t *testing.T) {
	s := open(t, t.TempDir())
	defer func() { require.NoError(t, s.Close()) }()
	md := batch("cumulative", pmetric.AggregationTemporalityCumulative, 1)
	batch("delta", pmetric.AggregationTemporalityDelta, 5).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	// A non-monotonic delta sum is a gauge to Prometheus; make it monotonic.
	md.ResourceMetrics().At(1).ScopeMetrics().At(0).Metrics().At(0).Sum().SetIsMonotonic(true)

	stats, err := s.Write(context.Background(), md)
	require.ErrorContains(t, err, `invalid temporality and type combination for metric "delta"`)
	assert.Equal(t, 1, stats.ConversionErrors)
	assert.Len(t, selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "cumulative_bytes")), 1)
	assert.Empty(t, selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchRegexp, "__name__", "delta.*")))
}

func TestDataSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	_, err := s.Write(context.Background(), batch("g", pmetric.AggregationTemporalityCumulative, 1, 2))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close must be idempotent")

	s = open(t, dir)
	defer func() { require.NoError(t, s.Close()) }()
	assert.Len(t, selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "g_bytes")), 2)
}

func TestCanceledWriteCommitsNothing(t *testing.T) {
	s := open(t, t.TempDir())
	defer func() { require.NoError(t, s.Close()) }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Write(ctx, batch("g", pmetric.AggregationTemporalityCumulative, 1))
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "g_bytes")))
}

func TestOpenFailsWithAClearError(t *testing.T) {
	_, err := Open(Options{Path: "/proc/not-a-place-for-a-tsdb"})
	require.ErrorContains(t, err, `opening the TSDB in "/proc/not-a-place-for-a-tsdb"`)
}

// BenchmarkWrite measures the full write path for a batch shaped like one
// scrape of the self source: 20 series.
func BenchmarkWrite(b *testing.B) {
	s, err := Open(Options{Path: b.TempDir(), Retention: time.Hour, OutOfOrderWindow: time.Hour})
	require.NoError(b, err)
	defer func() { require.NoError(b, s.Close()) }()
	md := batch("g", pmetric.AggregationTemporalityCumulative, make([]int64, 20)...)
	dps := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
	for i := range dps.Len() {
		dps.At(i).Attributes().PutInt("series", int64(i))
		dps.At(i).SetTimestamp(pcommon.NewTimestampFromTime(base))
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		for i := range dps.Len() {
			dps.At(i).SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(n) * time.Second)))
		}
		if _, err := s.Write(context.Background(), md); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*dps.Len())/b.Elapsed().Seconds(), "samples/s")
}

func TestMetadataPerTenant(t *testing.T) {
	s, err := Open(Options{Path: t.TempDir(), Retention: time.Hour, TenantLabel: "tenant", PromoteResourceAttributes: []string{"tenant"}})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	for _, tenant := range []string{"a", "b"} {
		md := batch("go.memory.used", pmetric.AggregationTemporalityCumulative, 1)
		md.ResourceMetrics().At(0).Resource().Attributes().PutStr("tenant", tenant)
		m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
		m.SetDescription("Memory used by the Go runtime.")
		m.SetName("go.memory.used." + tenant)
		_, err := s.Write(context.Background(), md)
		require.NoError(t, err)
	}
	a := s.Metadata("a")
	require.Contains(t, a, "go_memory_used_a_bytes")
	assert.NotContains(t, a, "go_memory_used_b_bytes", "tenant a must not see b's metric names")
	assert.Equal(t, "Memory used by the Go runtime.", a["go_memory_used_a_bytes"][0].Help)
	assert.Equal(t, "gauge", string(a["go_memory_used_a_bytes"][0].Type))
	all := s.Metadata("")
	assert.Contains(t, all, "go_memory_used_a_bytes")
	assert.Contains(t, all, "go_memory_used_b_bytes")
}

func TestRetentionBySizeRemovesOldBlocks(t *testing.T) {
	dir := t.TempDir()
	// Three two-hour blocks of old data, written as Prometheus writes blocks.
	const blockSize = 2 * time.Hour
	start := time.Now().Add(-24 * time.Hour).Truncate(blockSize)
	for b := range 3 {
		writeBlock(t, dir, start.Add(time.Duration(b)*blockSize), 200)
	}
	s, err := Open(Options{Path: dir, Retention: 365 * 24 * time.Hour})
	require.NoError(t, err)
	blocks := s.DB().Blocks()
	require.Len(t, blocks, 3)
	one := blocks[0].Size()
	require.NoError(t, s.Close())

	// A size bound that holds about one and a half blocks keeps the newest.
	s, err = Open(Options{Path: dir, Retention: 365 * 24 * time.Hour, RetentionSize: one + one/2})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	blocks = s.DB().Blocks()
	require.Len(t, blocks, 1, "the oldest blocks must go")
	assert.Equal(t, start.Add(2*blockSize).UnixMilli(), blocks[0].Meta().MinTime)
}

func TestRetentionByTimeRemovesOldBlocks(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-72 * time.Hour).Truncate(2 * time.Hour)
	recent := time.Now().Add(-6 * time.Hour).Truncate(2 * time.Hour)
	writeBlock(t, dir, old, 10)
	writeBlock(t, dir, recent, 10)
	s, err := Open(Options{Path: dir, Retention: 24 * time.Hour})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	blocks := s.DB().Blocks()
	require.Len(t, blocks, 1, "the block older than the retention must go")
	assert.Equal(t, recent.UnixMilli(), blocks[0].Meta().MinTime)
	// Its samples are gone from queries too.
	got := selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "old_metric"))
	for _, smp := range got {
		assert.GreaterOrEqual(t, smp.t, recent.UnixMilli())
	}
}

// writeBlock writes a two-hour block from start with n series of one
// sample per minute into dir.
func writeBlock(t *testing.T, dir string, start time.Time, n int) {
	t.Helper()
	w, err := tsdb.NewBlockWriter(slog.New(slog.DiscardHandler), dir, (2 * time.Hour).Milliseconds())
	require.NoError(t, err)
	app := w.Appender(context.Background())
	for i := range n {
		ls := labels.FromStrings("__name__", "old_metric", "series", strconv.Itoa(i))
		for m := range 119 {
			_, err := app.Append(0, ls, start.Add(time.Duration(m)*time.Minute).UnixMilli(), float64(m))
			require.NoError(t, err)
		}
	}
	require.NoError(t, app.Commit())
	_, err = w.Flush(context.Background())
	require.NoError(t, err)
	require.NoError(t, w.Close())
}

func TestClassicHistogramsAsNative(t *testing.T) {
	for _, native := range []bool{false, true} {
		s, err := Open(Options{Path: t.TempDir(), Retention: time.Hour, ClassicHistogramsAsNative: native})
		require.NoError(t, err)
		md := pmetric.NewMetrics()
		m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("latency")
		m.SetUnit("s")
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		dp := h.DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(base))
		dp.ExplicitBounds().FromRaw([]float64{0.1, 1})
		dp.BucketCounts().FromRaw([]uint64{1, 2, 3})
		dp.SetCount(6)
		dp.SetSum(4.2)
		_, err = s.Write(context.Background(), md)
		require.NoError(t, err)
		buckets := selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "latency_seconds_bucket"))
		nativeSeries := selectAll(t, s.Queryable(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "latency_seconds"))
		if native {
			assert.Empty(t, buckets, "no classic buckets in native mode")
			require.Len(t, nativeSeries, 1, "one native histogram with custom buckets")
			assert.Equal(t, 6.0, nativeSeries[0].v, "its count")
		} else {
			assert.Len(t, buckets, 3, "le=0.1, le=1, le=+Inf")
			assert.Empty(t, nativeSeries)
		}
		require.NoError(t, s.Close())
	}
}
