package target

import (
	"compress/gzip"
	"context"
	stdexpvar "expvar"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/promtext"
)

func fixtureHandler(t *testing.T, name string) http.HandlerFunc { return fixtureHandlerB(t, name) }

func fixtureHandlerB(t testing.TB, name string) http.HandlerFunc {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "promtext", "testdata", name))
	require.NoError(t, err)
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(body)
	}
}

func names(md pmetric.Metrics) map[string]pmetric.Metric {
	out := map[string]pmetric.Metric{}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		out[ms.At(i).Name()] = ms.At(i)
	}
	return out
}

func upBySource(md pmetric.Metrics) map[string]int64 {
	out := map[string]int64{}
	m, ok := names(md)["go.scrape.up"]
	if !ok {
		return out
	}
	dps := m.Gauge().DataPoints()
	for i := range dps.Len() {
		src, _ := dps.At(i).Attributes().Get("go.scrape.source")
		out[src.Str()] = dps.At(i).IntValue()
	}
	return out
}

// TestPrometheusOnlyTarget serves client_golang's /metrics (with all
// runtime metrics) and no /debug/vars: detection reads only /metrics,
// without reporting the missing /debug/vars as a failure.
func TestPrometheusOnlyTarget(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", fixtureHandler(t, "go1.26-runtime-metrics.txt"))
	tg, _ := newTarget(t, mux)
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err, "a source the target does not offer is not an error")
	assert.Equal(t, map[string]int64{"prometheus": 1}, upBySource(md))
	assert.Equal(t, []string{SourcePrometheus}, tg.ActiveSources())

	ms := names(md)
	for _, want := range []string{
		"go.goroutine.count", "go.goroutine.state.count", "go.goroutine.created", "go.memory.used", "go.memory.class.used",
		"go.memory.allocated", "go.memory.allocations", "go.memory.gc.goal", "go.memory.gc.cycles", "go.config.gogc",
		"go.processor.limit", "go.cpu.time", "go.schedule.duration", "go.memory.gc.pause.duration",
		"process.cpu.time", "process.memory.usage", "process.unix.file_descriptor.count",
	} {
		assert.Contains(t, ms, want)
	}
	assert.NotContains(t, ms, "go.memory.limit", "no limit set in the fixture")
	assert.NotContains(t, ms, "go.memory.gc.cycle.pause.duration", "only /debug/vars gives per-cycle pauses")
	res := md.ResourceMetrics().At(0).Resource().Attributes()
	v, _ := res.Get("process.runtime.version")
	assert.True(t, strings.HasPrefix(v.Str(), "go1.26"), v.Str())
	// Counters start at the process's start time, which /metrics gives.
	start := ms["go.memory.allocated"].Sum().DataPoints().At(0).StartTimestamp()
	assert.Equal(t, int64(tg.procStart*1e9), int64(start))
	assert.Less(t, int64(start), time.Now().UnixNano())
	lat := ms["go.schedule.duration"].Histogram().DataPoints().At(0)
	assert.Equal(t, lat.BucketCounts().Len(), lat.ExplicitBounds().Len()+1)
	assert.False(t, lat.HasSum(), "runtime histograms carry no sum in the model")
}

// TestBothSourcesOneValueEach serves /metrics and the real /debug/vars: a
// metric both give comes from /metrics only, and /debug/vars adds the
// per-cycle pauses.
func TestBothSourcesOneValueEach(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", fixtureHandler(t, "go1.26-runtime-metrics.txt"))
	mux.Handle("/debug/vars", stdexpvar.Handler())
	tg, _ := newTarget(t, mux)
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"prometheus": 1, "expvar": 1}, upBySource(md))
	ms := names(md)
	alloc := ms["go.memory.allocated"].Sum().DataPoints()
	require.Equal(t, 1, alloc.Len(), "one value, not one per source")
	// The fixture's go_gc_heap_allocs_bytes_total, not this process's.
	f, err := os.Open(filepath.Join("..", "promtext", "testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	fams, err := promtext.Parse(f, "", 1<<20)
	require.NoError(t, err)
	want, _ := fams.Int("/gc/heap/allocs:bytes")
	assert.Equal(t, want, alloc.At(0).IntValue())
	assert.Contains(t, ms, "go.memory.gc.cycle.pause.duration")
	assert.Contains(t, ms, "go.memory.gc.cycle.pauses.lost")
}

func TestIncludeKeepsUnknownFamilies(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`# TYPE http_requests_total counter
http_requests_total{code="200"} 7
http_requests_total{code="500"} 1
# TYPE queue_depth gauge
queue_depth 3
# TYPE secret gauge
secret 1
`))
	}))
	tg, _ := newTarget(t, mux)
	tg.s.PrometheusInclude = compile(t, "http_.*", "queue_depth")
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	ms := names(md)
	require.Contains(t, ms, "http_requests_total")
	assert.Equal(t, 2, ms["http_requests_total"].Sum().DataPoints().Len())
	assert.True(t, ms["http_requests_total"].Sum().IsMonotonic())
	assert.Equal(t, 3.0, ms["queue_depth"].Gauge().DataPoints().At(0).DoubleValue())
	assert.NotContains(t, ms, "secret")
}

// TestSourceStopsAnswering: an active source that fails is an error and
// sends the target back to detection.
func TestSourceStopsAnswering(t *testing.T) {
	serve := true
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !serve {
			http.NotFound(w, r)
			return
		}
		stdexpvar.Handler().ServeHTTP(w, r)
	}))
	tg, _ := newTarget(t, mux)
	_, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{SourceExpvar}, tg.ActiveSources())
	serve = false
	md, err := tg.Scrape(context.Background(), time.Now())
	require.ErrorContains(t, err, `target "svc": /debug/vars: HTTP status 404`)
	assert.Equal(t, int64(0), upBySource(md)["expvar"])
	assert.True(t, tg.detect, "the next scrape detects again")
	serve = true
	md, err = tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(1), upBySource(md)["expvar"])
	assert.Equal(t, []string{SourceExpvar}, tg.ActiveSources())
}

// TestIncludeSkipsWhatTheModelCarries: a pattern that matches every family
// passes on only those the model does not already carry, so no value is
// stored twice under two names.
func TestIncludeSkipsWhatTheModelCarries(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("..", "promtext", "testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(fixture) }))
	tg, _ := newTarget(t, mux)
	tg.s.Sources = []string{SourcePrometheus}
	tg.s.PrometheusInclude = compile(t, ".*")
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	ms := names(md)
	for _, carried := range []string{
		"go_gc_heap_allocs_bytes_total", // Sourced from /gc/heap/allocs:bytes
		"go_memstats_heap_alloc_bytes",  // Equals to /memory/classes/heap/objects:bytes
		"go_goroutines", "go_sched_latencies_seconds", "go_info", "process_cpu_seconds_total",
		"go_sync_mutex_wait_total_seconds_total", // go.sync.mutex.wait.time
	} {
		assert.NotContains(t, ms, carried)
	}
	for _, passed := range []string{"go_gc_heap_frees_by_size_bytes", "go_gc_heap_allocs_by_size_bytes", "go_gc_duration_seconds"} {
		assert.Contains(t, ms, passed)
	}
	assert.Contains(t, ms, "go.memory.allocated")
}

// TestUncompressedResponses: with Uncompressed the target is asked for
// identity encoding; one that gzips anyway is still read. Without it the
// transport asks for gzip and decompresses.
func TestUncompressedResponses(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("..", "promtext", "testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name         string
		uncompressed bool
		alwaysGzip   bool
		wantAccept   string
	}{
		{"identity", true, false, "identity"},
		{"identity asked, gzip sent", true, true, "identity"},
		{"gzip", false, false, "gzip"},
	} {
		var accept atomic.Value
		mux := http.NewServeMux()
		mux.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			accept.Store(r.Header.Get("Accept-Encoding"))
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			if tc.alwaysGzip || strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				_, _ = zw.Write(fixture)
				_ = zw.Close()
				return
			}
			_, _ = w.Write(fixture)
		}))
		tg, _ := newTarget(t, mux)
		tg.s.Sources = []string{SourcePrometheus}
		tg.s.Uncompressed = tc.uncompressed
		md, err := tg.Scrape(context.Background(), time.Now())
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.wantAccept, accept.Load(), tc.name)
		assert.Contains(t, names(md), "go.goroutine.count", tc.name)
	}
}

// shape lists each metric's name with its data points' attribute sets:
// what a scrape delivers, whatever the values.
func shape(md pmetric.Metrics) map[string][]string {
	out := map[string][]string{}
	for name, m := range names(md) {
		var attrs []string
		add := func(a pcommon.Map) { attrs = append(attrs, fmt.Sprint(a.AsRaw())) }
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			for i := range m.Gauge().DataPoints().Len() {
				add(m.Gauge().DataPoints().At(i).Attributes())
			}
		case pmetric.MetricTypeSum:
			for i := range m.Sum().DataPoints().Len() {
				add(m.Sum().DataPoints().At(i).Attributes())
			}
		case pmetric.MetricTypeHistogram:
			for i := range m.Histogram().DataPoints().Len() {
				add(m.Histogram().DataPoints().At(i).Attributes())
			}
		}
		sort.Strings(attrs)
		out[name] = attrs
	}
	return out
}

// TestProtobufDeliversWhatTextDoes scrapes one live client_golang registry
// (every runtime metric, the process collector, and a family of the
// service's own) as protobuf, which skips the families nobody reads, and
// as text, which parses everything: both deliver the same metrics with the
// same data points, with and without an include pattern.
func TestProtobufDeliversWhatTextDoes(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests."}, []string{"code"})
	requests.WithLabelValues("200").Add(3)
	reg.MustRegister(requests)
	handler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	var formats []string
	serve := func(text bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if text {
				r.Header.Set("Accept", "text/plain;version=0.0.4")
			}
			handler.ServeHTTP(w, r)
			formats = append(formats, w.Header().Get("Content-Type"))
		})
	}
	for _, include := range [][]string{nil, {"app_.*", "go_godebug_.*"}} {
		pb, _ := newTarget(t, serve(false))
		text, _ := newTarget(t, serve(true))
		pb.s.Sources, text.s.Sources = []string{SourcePrometheus}, []string{SourcePrometheus}
		pb.s.PrometheusInclude, text.s.PrometheusInclude = compile(t, include...), compile(t, include...)
		formats = nil
		mdPB, err := pb.Scrape(context.Background(), time.Now())
		require.NoError(t, err)
		mdText, err := text.Scrape(context.Background(), time.Now())
		require.NoError(t, err)
		require.Len(t, formats, 2)
		require.Contains(t, formats[0], "application/vnd.google.protobuf")
		require.Contains(t, formats[1], "text/plain")
		got, want := shape(mdPB), shape(mdText)
		assert.Equal(t, want, got, "include %v", include)
		assert.Greater(t, len(got), 20)
		if include != nil {
			assert.Contains(t, got, "app_requests_total")
		}
	}
}

// TestScrapesReuseTheConnection: every scrape of every source goes over
// the one kept-alive connection, protobuf answers whose families are mostly
// skipped included: a new connection per scrape would cost more than the
// rest of a scrape.
func TestScrapesReuseTheConnection(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/debug/vars", stdexpvar.Handler())
	// Connections are told apart by the client's address, and only this
	// test's requests count: host discovery running in another test
	// process may probe this one's ports too.
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") == t.Name() {
			mu.Lock()
			conns[r.RemoteAddr] = true
			mu.Unlock()
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	transport := &http.Transport{}
	client := &http.Client{Transport: markedTransport{transport, t.Name()}}
	defer transport.CloseIdleConnections()
	tg := New(Settings{
		Endpoint: u, Sources: []string{SourcePrometheus, SourceExpvar}, MaxResponseSize: 1 << 20,
		Timeout: 2 * time.Second, Uncompressed: true,
	}, client, metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type))
	for range 5 {
		md, err := tg.Scrape(context.Background(), time.Now())
		require.NoError(t, err)
		require.Equal(t, map[string]int64{"prometheus": 1, "expvar": 1}, upBySource(md))
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, conns, 1, "ten requests over one connection")
}

// markedTransport marks every request with an X-Test header.
type markedTransport struct {
	base *http.Transport
	mark string
}

func (m markedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test", m.mark)
	return m.base.RoundTrip(r)
}

// TestIncludedIsBounded: the memo of include decisions answers as the
// patterns do and stays bounded when names never repeat.
func TestIncludedIsBounded(t *testing.T) {
	tg, _ := newTarget(t, http.NotFoundHandler())
	tg.s.PrometheusInclude = compile(t, "go_.*", "app_requests_total")
	for i := range 3 * includeMemoLimit {
		name := fmt.Sprintf("go_x%d", i)
		if i%2 == 1 {
			name = fmt.Sprintf("other_%d", i)
		}
		require.Equal(t, i%2 == 0, tg.included(name), name)
		require.Equal(t, i%2 == 0, tg.included(name), "%s from the memo", name)
		require.LessOrEqual(t, len(tg.includeMemo), includeMemoLimit)
	}
	require.True(t, tg.included("app_requests_total"))
	require.False(t, tg.included("app_requests_total_x"), "patterns match whole names")
	long := "go_" + strings.Repeat("x", includeMemoMaxLen)
	require.True(t, tg.included(long))
	require.NotContains(t, tg.includeMemo, long, "long names are matched, not remembered")
}

// TestGCCyclesComeWithThePauses: with both sources, the GC cycle count
// comes from the /debug/vars read that gives the per-cycle pauses, so the
// two always agree; when /debug/vars fails, from /metrics.
func TestGCCyclesComeWithThePauses(t *testing.T) {
	var failVars atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/metrics", fixtureHandler(t, "go1.26-runtime-metrics.txt"))
	mux.Handle("/debug/vars", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failVars.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		stdexpvar.Handler().ServeHTTP(w, r)
	}))
	tg, _ := newTarget(t, mux)
	tg.s.Sources = []string{SourcePrometheus, SourceExpvar}
	f, err := os.Open(filepath.Join("..", "promtext", "testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	fams, err := promtext.Parse(f, "", 1<<20)
	require.NoError(t, err)
	fromMetrics, ok := fams.Int("/gc/cycles/total:gc-cycles")
	require.True(t, ok)

	runtime.GC()
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	cycles := names(md)["go.memory.gc.cycles"].Sum().DataPoints()
	require.Equal(t, 1, cycles.Len())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	got := cycles.At(0).IntValue()
	assert.NotEqual(t, fromMetrics, got, "not the fixture's count")
	assert.GreaterOrEqual(t, got, int64(1))
	assert.LessOrEqual(t, got, int64(ms.NumGC), "this process's NumGC, as /debug/vars served it")

	failVars.Store(true)
	md, err = tg.Scrape(context.Background(), time.Now())
	require.Error(t, err)
	cycles = names(md)["go.memory.gc.cycles"].Sum().DataPoints()
	require.Equal(t, 1, cycles.Len(), "still one value")
	assert.Equal(t, fromMetrics, cycles.At(0).IntValue(), "from /metrics when /debug/vars fails")
}
