package target

import (
	"context"
	"encoding/json"
	stdexpvar "expvar"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/goleak"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newTarget(t *testing.T, h http.Handler) (*Target, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	client := &http.Client{Timeout: 2 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return New(Settings{
		Endpoint: u, Name: "svc", MaxResponseSize: 1 << 20, ResourceAttributes: map[string]string{"deployment.environment.name": "test"},
		GoroutineInterval: time.Minute, MaxDumpSize: 1 << 20, TopCreators: 5,
	},
		client, metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type)), srv
}

func metric(t *testing.T, md pmetric.Metrics, name string) pmetric.Metric {
	t.Helper()
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		if ms.At(i).Name() == name {
			return ms.At(i)
		}
	}
	t.Fatalf("no metric %s", name)
	return pmetric.Metric{}
}

func intValue(t *testing.T, md pmetric.Metrics, name string) int64 {
	t.Helper()
	m := metric(t, md, name)
	if m.Type() == pmetric.MetricTypeGauge {
		return m.Gauge().DataPoints().At(0).IntValue()
	}
	return m.Sum().DataPoints().At(0).IntValue()
}

// TestPauseHistogramIsExact scrapes this process's real /debug/vars around
// real GC cycles: the histogram counts exactly the change in NumGC and sums
// exactly the change in PauseTotalNs.
func TestPauseHistogramIsExact(t *testing.T) {
	tg, _ := newTarget(t, stdexpvar.Handler())
	var before runtime.MemStats
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	runtime.ReadMemStats(&before)
	first := intValue(t, md, "go.memory.gc.cycles")
	h := metric(t, md, "go.memory.gc.cycle.pause.duration").ExponentialHistogram().DataPoints().At(0)
	assert.Zero(t, h.Count(), "the first scrape primes the tracker")

	for range 25 {
		runtime.GC()
	}
	md, err = tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	second := intValue(t, md, "go.memory.gc.cycles")
	h = metric(t, md, "go.memory.gc.cycle.pause.duration").ExponentialHistogram().DataPoints().At(0)
	assert.Equal(t, uint64(second-first), h.Count())
	assert.GreaterOrEqual(t, second-first, int64(25))
	assert.Positive(t, h.Sum())
	assert.Zero(t, intValue(t, md, "go.memory.gc.cycle.pauses.lost"))
	assert.Equal(t, int64(1), intValue(t, md, "go.scrape.up"))

	res := md.ResourceMetrics().At(0).Resource().Attributes()
	name, _ := res.Get("service.name")
	assert.Equal(t, "svc", name.Str())
	inst, _ := res.Get("service.instance.id")
	assert.Equal(t, tg.s.Endpoint.Host, inst.Str())
	env, _ := res.Get("deployment.environment.name")
	assert.Equal(t, "test", env.Str())
	var classes int64
	used := metric(t, md, "go.memory.class.used").Sum().DataPoints()
	for i := range used.Len() {
		classes += used.At(i).IntValue()
	}
	var now runtime.MemStats
	runtime.ReadMemStats(&now)
	assert.InDelta(t, float64(now.Sys), float64(classes), float64(now.Sys)/10, "the memory classes add up to Sys")
}

// fakeVars serves a /debug/vars with the given NumGC, PauseTotalNs and a
// ring of 1 ms pauses.
func fakeVars(numGC, total *uint64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ms := map[string]any{"NumGC": *numGC, "PauseTotalNs": *total, "Sys": 1000, "PauseNs": make([]uint64, 256)}
		for i := range 256 {
			ms["PauseNs"].([]uint64)[i] = 1_000_000
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"memstats": ms})
	})
}

func TestRestartStartsNewSeries(t *testing.T) {
	numGC, total := uint64(100), uint64(100_000_000)
	tg, _ := newTarget(t, fakeVars(&numGC, &total))
	t0 := time.Unix(1_700_000_000, 0)
	_, err := tg.Scrape(context.Background(), t0)
	require.NoError(t, err)
	numGC, total = 110, 110_000_000
	md, err := tg.Scrape(context.Background(), t0.Add(10*time.Second))
	require.NoError(t, err)
	h := metric(t, md, "go.memory.gc.cycle.pause.duration").ExponentialHistogram().DataPoints().At(0)
	assert.Equal(t, uint64(10), h.Count())
	assert.InDelta(t, 0.010, h.Sum(), 1e-12)

	// The process restarts: its counters go down.
	numGC, total = 2, 2_000_000
	md, err = tg.Scrape(context.Background(), t0.Add(20*time.Second))
	require.NoError(t, err)
	h = metric(t, md, "go.memory.gc.cycle.pause.duration").ExponentialHistogram().DataPoints().At(0)
	assert.Zero(t, h.Count(), "a restart starts the histogram over")
	assert.Equal(t, t0.Add(20*time.Second).UnixNano(), int64(h.StartTimestamp()), "with a new start time")
	cycles := metric(t, md, "go.memory.gc.cycles").Sum().DataPoints().At(0)
	assert.Equal(t, int64(2), cycles.IntValue())
	assert.Equal(t, t0.Add(20*time.Second).UnixNano(), int64(cycles.StartTimestamp()), "counters start a new series too")

	numGC, total = 500, 500_000_000 // 498 cycles: 242 fell out of the ring
	md, err = tg.Scrape(context.Background(), t0.Add(30*time.Second))
	require.NoError(t, err)
	assert.Equal(t, int64(242), intValue(t, md, "go.memory.gc.cycle.pauses.lost"))
	h = metric(t, md, "go.memory.gc.cycle.pause.duration").ExponentialHistogram().DataPoints().At(0)
	assert.Equal(t, uint64(256), h.Count())
}

func TestBadTargetsReportDown(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"not found":   func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) },
		"html":        func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>hello</html>")) },
		"truncated":   func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"memstats":{"NumGC":`)) },
		"no memstats": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"cmdline":["x"]}`)) },
		"huge": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"memstats":{},"x":"` + strings.Repeat("a", 2<<20) + `"}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			tg, _ := newTarget(t, h)
			md, err := tg.Scrape(context.Background(), time.Now())
			require.Error(t, err)
			assert.Contains(t, err.Error(), `target "svc": /debug/vars:`)
			assert.Equal(t, int64(0), intValue(t, md, "go.scrape.up"))
			assert.Equal(t, 2, md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().Len(),
				"a failed source reports only go.scrape.up and go.scrape.duration, never zeros")
		})
	}
}

func TestUserVariables(t *testing.T) {
	tg, srv := newTarget(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprint(w, `{"memstats":{"NumGC":1},"queue_depth":7,"cache":{"hits":3,"misses":1},"secret":9}`)
	}))
	_ = srv
	tg.s.ExpvarInclude = compile(t, "queue_depth", `cache\..*`)
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	assert.Equal(t, 7.0, metric(t, md, "expvar.queue_depth").Gauge().DataPoints().At(0).DoubleValue())
	assert.Equal(t, 3.0, metric(t, md, "expvar.cache.hits").Gauge().DataPoints().At(0).DoubleValue())
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		assert.NotEqual(t, "expvar.secret", ms.At(i).Name(), "variables not included stay out")
	}
}

func compile(t *testing.T, patterns ...string) []*regexp.Regexp {
	t.Helper()
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		out = append(out, regexp.MustCompile("^(?:"+p+")$"))
	}
	return out
}

// TestTimeoutCoversTheBody: a target that answers the headers and then
// stalls in the middle of the body is cut off by the target's timeout,
// which the receiver applies per request instead of http.Client's.
func TestTimeoutCoversTheBody(t *testing.T) {
	release := make(chan struct{})
	tg, _ := newTarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"memstats":{"NumGC":`))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	tg.client.Timeout = 0
	tg.s.Timeout = 200 * time.Millisecond
	md, err := tg.Scrape(context.Background(), time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "context deadline exceeded")
	assert.Equal(t, int64(0), intValue(t, md, "go.scrape.up"))
}
