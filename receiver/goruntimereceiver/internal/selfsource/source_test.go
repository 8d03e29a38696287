package selfsource

import (
	"flag"
	"math"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/goleak"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

var update = flag.Bool("update", false, "rewrite the golden files from this run")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newSource() *Source {
	return New(metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type),
		OwnIdentity("otelcol-goruntime", "instance-1"))
}

// TestGolden compares names, units, types, attributes and resource of a
// scrape with the committed golden file; values and timestamps vary.
func TestGolden(t *testing.T) {
	// With a memory limit set, so that every metric of the model is covered.
	prev := debug.SetMemoryLimit(1 << 40)
	defer debug.SetMemoryLimit(prev)
	md := newSource().Scrape(time.Now())
	path := filepath.Join("testdata", "golden.yaml")
	if *update {
		require.NoError(t, golden.WriteMetricsToFile(path, md))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, md,
		pmetrictest.IgnoreMetricValues(),
		pmetrictest.IgnoreTimestamp(),
		pmetrictest.IgnoreStartTimestamp(),
		pmetrictest.IgnoreMetricsOrder(),
		pmetrictest.IgnoreMetricDataPointsOrder(),
		pmetrictest.IgnoreScopeVersion(),
		pmetrictest.IgnoreResourceAttributeValue("process.pid"),
		pmetrictest.IgnoreResourceAttributeValue("process.executable.name"),
		pmetrictest.IgnoreResourceAttributeValue("process.runtime.version"),
	))
}

func metricsByName(md pmetric.Metrics) map[string]pmetric.Metric {
	out := map[string]pmetric.Metric{}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		out[ms.At(i).Name()] = ms.At(i)
	}
	return out
}

func sumPoints(t *testing.T, m pmetric.Metric) map[string]pmetric.NumberDataPoint {
	t.Helper()
	require.Equal(t, pmetric.MetricTypeSum, m.Type(), m.Name())
	out := map[string]pmetric.NumberDataPoint{}
	dps := m.Sum().DataPoints()
	for i := range dps.Len() {
		key := ""
		dps.At(i).Attributes().Range(func(_ string, v pcommon.Value) bool { key = v.AsString(); return false })
		out[key] = dps.At(i)
	}
	return out
}

func TestValuesDescribeThisProcess(t *testing.T) {
	runtime.GC()
	start := time.Now()
	md := newSource().Scrape(start)
	res := md.ResourceMetrics().At(0).Resource().Attributes()
	pid, _ := res.Get("process.pid")
	assert.Positive(t, pid.Int())
	name, _ := res.Get("service.name")
	assert.Equal(t, "otelcol-goruntime", name.Str())
	ver, _ := res.Get("process.runtime.version")
	assert.Equal(t, runtime.Version(), ver.Str())

	ms := metricsByName(md)
	g := sumPoints(t, ms["go.goroutine.count"])[""]
	assert.Equal(t, pmetric.NumberDataPointValueTypeInt, g.ValueType())
	assert.GreaterOrEqual(t, g.IntValue(), int64(2), "a test binary runs at least two goroutines")
	assert.False(t, ms["go.goroutine.count"].Sum().IsMonotonic())

	used := sumPoints(t, ms["go.memory.used"])
	assert.Positive(t, used["stack"].IntValue())
	assert.Greater(t, used["other"].IntValue(), used["stack"].IntValue())

	assert.Equal(t, int64(runtime.GOMAXPROCS(0)), sumPoints(t, ms["go.processor.limit"])[""].IntValue())
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	assert.Equal(t, int64(gogc), sumPoints(t, ms["go.config.gogc"])[""].IntValue())
	assert.Positive(t, sumPoints(t, ms["go.memory.gc.cycles"])[""].IntValue())
	assert.True(t, ms["go.memory.allocated"].Sum().IsMonotonic())

	states := sumPoints(t, ms["go.goroutine.state.count"])
	assert.Len(t, states, 4)
	assert.Positive(t, states["running"].IntValue(), "this goroutine is running")

	cpu := sumPoints(t, ms["go.cpu.time"])
	assert.Len(t, cpu, 4)
	assert.Equal(t, pmetric.NumberDataPointValueTypeDouble, cpu["user"].ValueType())

	_, hasLimit := ms["go.memory.limit"]
	limitSet := debug.SetMemoryLimit(-1) != math.MaxInt64 // -1 reads without changing
	assert.Equal(t, limitSet, hasLimit, "the limit is reported exactly when one is set")

	for _, name := range []string{"go.schedule.duration", "go.memory.gc.pause.duration"} {
		m, ok := ms[name]
		require.True(t, ok, name)
		require.Equal(t, pmetric.MetricTypeHistogram, m.Type())
		dp := m.Histogram().DataPoints().At(0)
		assert.Equal(t, dp.BucketCounts().Len(), dp.ExplicitBounds().Len()+1, name)
		assert.Less(t, dp.StartTimestamp(), dp.Timestamp(), name)
	}
	pauses := ms["go.memory.gc.pause.duration"].Histogram().DataPoints().At(0)
	assert.Positive(t, pauses.Count(), "runtime.GC() paused the world")
}

func TestMemoryLimitIsReportedWhenSet(t *testing.T) {
	prev := debug.SetMemoryLimit(1 << 40)
	defer debug.SetMemoryLimit(prev)
	ms := metricsByName(newSource().Scrape(time.Now()))
	assert.Equal(t, int64(1<<40), sumPoints(t, ms["go.memory.limit"])[""].IntValue())
}

func TestDisabledMetricsAreLeftOut(t *testing.T) {
	cfg := metadata.NewDefaultMetricsBuilderConfig()
	cfg.Metrics.GoCPUTime.Enabled = false
	cfg.Metrics.GoMemoryUsed.Enabled = false
	s := New(cfg, receivertest.NewNopSettings(metadata.Type), OwnIdentity("x", ""))
	ms := metricsByName(s.Scrape(time.Now()))
	assert.NotContains(t, ms, "go.cpu.time")
	assert.NotContains(t, ms, "go.memory.used")
	assert.Contains(t, ms, "go.goroutine.count")
}

func BenchmarkScrape(b *testing.B) {
	s := newSource()
	b.ReportAllocs()
	for b.Loop() {
		s.Scrape(time.Now())
	}
}
