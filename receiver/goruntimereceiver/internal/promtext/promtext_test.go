package promtext

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fixture(t testing.TB, name string) *Families {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	fams, err := Parse(f, "text/plain; version=0.0.4; charset=utf-8", 16<<20)
	require.NoError(t, err)
	return fams
}

// The fixtures are /metrics answers of examples/demoservice built with
// Go 1.26 and client_golang, with and without WithGoCollectorRuntimeMetrics.
func TestRuntimeMetricsFixture(t *testing.T) {
	f := fixture(t, "go1.26-runtime-metrics.txt")
	assert.True(t, strings.HasPrefix(f.GoVersion, "go1.26"), f.GoVersion)
	for _, name := range []string{
		"/sched/goroutines:goroutines", "/gc/heap/allocs:bytes", "/gc/heap/allocs:objects",
		"/gc/cycles/total:gc-cycles", "/gc/gogc:percent", "/sched/gomaxprocs:threads",
		"/memory/classes/total:bytes", "/memory/classes/heap/stacks:bytes", "/sched/goroutines/waiting:goroutines",
	} {
		v, ok := f.Int(name)
		assert.True(t, ok, name)
		assert.GreaterOrEqual(t, v, int64(0), name)
	}
	limit, ok := f.Int("/gc/gomemlimit:bytes")
	assert.True(t, ok)
	assert.Equal(t, int64(math.MaxInt64), limit, "no limit: the family carries MaxInt64")
	cpu, ok := f.Float("/cpu/classes/user:cpu-seconds")
	assert.True(t, ok)
	assert.Positive(t, cpu)
	b, c, ok := f.Histogram("/sched/latencies:seconds")
	require.True(t, ok)
	assert.Len(t, b, len(c)+1)
	assert.True(t, math.IsInf(b[0], -1) && math.IsInf(b[len(b)-1], 1))
	_, _, ok = f.Histogram("/sched/pauses/total/gc:seconds")
	assert.True(t, ok)
	_, ok = f.Int("/gc/heap/allocs-by-size:bytes")
	assert.False(t, ok, "a histogram is not a scalar")
}

func TestDefaultFixture(t *testing.T) {
	f := fixture(t, "go1.26-default.txt")
	g, ok := f.Int("/sched/goroutines:goroutines")
	assert.True(t, ok, "go_goroutines carries the goroutine count")
	assert.Positive(t, g)
	sys, ok := f.Int("/memory/classes/total:bytes")
	assert.True(t, ok, "memstats Sys is /memory/classes/total:byte(s)")
	stacks, ok := f.Int("/memory/classes/heap/stacks:bytes")
	assert.True(t, ok)
	assert.Less(t, stacks, sys)
	_, ok = f.Int("/gc/heap/allocs:objects")
	assert.False(t, ok, "go_memstats_mallocs_total is a sum of two runtime metrics, not one")
	_, ok = f.Family("process_cpu_seconds_total")
	assert.True(t, ok)
}

func TestBuckets(t *testing.T) {
	f, err := Parse(strings.NewReader(`# TYPE h histogram
h_bucket{le="0.1"} 2
h_bucket{le="1"} 5
h_bucket{le="+Inf"} 6
h_sum 3
h_count 6
# TYPE bad histogram
bad_bucket{le="1"} 5
bad_bucket{le="2"} 3
bad_count 5
`), "", 1<<20)
	require.NoError(t, err)
	mf, _ := f.Family("h")
	b, c, ok := Buckets(mf.GetMetric()[0].GetHistogram())
	require.True(t, ok)
	assert.Equal(t, []float64{math.Inf(-1), 0.1, 1, math.Inf(1)}, b)
	assert.Equal(t, []uint64{2, 3, 1}, c)
	mf, _ = f.Family("bad")
	_, _, ok = Buckets(mf.GetMetric()[0].GetHistogram())
	assert.False(t, ok, "decreasing cumulative counts are refused")
}

func TestParseRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct{ body, ct, want string }{
		"garbage":      {body: "this is not metrics {{{", want: "parsing /metrics"},
		"bad type":     {body: "# TYPE x nonsense\nx 1\n", want: "parsing /metrics"},
		"content type": {body: "x 1\n", ct: "application/json", want: `unsupported content type "application/json"`},
		"too large":    {body: strings.Repeat("x 1\n", 100), want: "response larger than the limit"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.body), tc.ct, 64)
			if name != "too large" {
				_, err = Parse(strings.NewReader(tc.body), tc.ct, 1<<20)
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"go1.26-runtime-metrics.txt", "go1.26-default.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(string(b[:min(len(b), 4096)]))
	}
	f.Add("# HELP x Sourced from /a:b.\n# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_count 0\n")
	f.Fuzz(func(t *testing.T, body string) {
		fams, err := Parse(strings.NewReader(body), "", 1<<20)
		if err != nil {
			return
		}
		for name := range fams.byRuntime {
			if b, c, ok := fams.Histogram(name); ok && len(b) != len(c)+1 {
				t.Fatalf("%s: %d boundaries for %d counts", name, len(b), len(c))
			}
			_, _ = fams.Int(name)
		}
	})
}

func BenchmarkParseRuntimeMetrics(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(b, err)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(strings.NewReader(string(body)), "text/plain; version=0.0.4", 16<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// helpSourceRE is the specification helpSource implements.
var helpSourceRE = regexp.MustCompile(`(?:Sourced from|Equals to) (/[a-z0-9/_-]+:[a-z-]+)\.?$`)

func checkHelpSource(t *testing.T, help string) {
	t.Helper()
	got, ok := helpSource(help)
	m := helpSourceRE.FindStringSubmatch(strings.TrimSpace(help))
	if (m != nil) != ok || (ok && got != m[1]) {
		t.Fatalf("helpSource(%q) = %q, %v; the expression finds %q", help, got, ok, m)
	}
}

func TestHelpSource(t *testing.T) {
	for _, help := range []string{
		"Count of all completed GC cycles. Sourced from /gc/cycles/total:gc-cycles.",
		"Number of bytes obtained from system. Equals to /memory/classes/total:byte.",
		"Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes.",
		"Sourced from /sched/latencies:seconds",
		"  Sourced from /a:b.  ",
		"Sourced from /:b.", "Sourced from /a:.", "Sourced from a:b.", "Sourced from /a:b..",
		"Sourced from /A:b.", "Sourced from /a:b:c.", "Sourced from  /a:b.", "XSourced from /a:b",
		"Number of goroutines that currently exist.", "", ".", "Sourced from ",
	} {
		checkHelpSource(t, help)
	}
	body, err := os.ReadFile(filepath.Join("testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(t, err)
	helps := 0
	for line := range strings.Lines(string(body)) {
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			_, help, _ := strings.Cut(rest, " ")
			checkHelpSource(t, strings.TrimSuffix(help, "\n"))
			helps++
		}
	}
	require.Greater(t, helps, 50)
}

func FuzzHelpSource(f *testing.F) {
	f.Add("Count of all completed GC cycles. Sourced from /gc/cycles/total:gc-cycles.")
	f.Add("Equals to /memory/classes/total:byte.")
	f.Add("Equals to /a:b + /c:d.")
	f.Fuzz(checkHelpSource)
}

// TestProtobufMatchesText scrapes one real client_golang handler (every
// runtime metric enabled) in both formats it serves and checks that both
// parse to the same sources with the same kinds of values.
func TestProtobufMatchesText(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	get := func(accept string) *Families {
		req, err := http.NewRequest(http.MethodGet, srv.URL, http.NoBody)
		require.NoError(t, err)
		req.Header.Set("Accept", accept)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		f, err := Parse(resp.Body, resp.Header.Get("Content-Type"), 16<<20)
		require.NoError(t, err, resp.Header.Get("Content-Type"))
		return f
	}
	text := get("text/plain;version=0.0.4")
	pb := get("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	assert.Equal(t, text.Names(), pb.Names())
	assert.Equal(t, text.GoVersion, pb.GoVersion)
	require.NotEmpty(t, text.byRuntime)
	require.Len(t, pb.byRuntime, len(text.byRuntime))
	for src, mf := range text.byRuntime {
		other, ok := pb.byRuntime[src]
		require.True(t, ok, src)
		assert.Equal(t, mf.GetName(), other.GetName(), src)
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			b1, c1, ok1 := text.Histogram(src)
			b2, _, ok2 := pb.Histogram(src)
			assert.True(t, ok1 && ok2, src)
			assert.Equal(t, b1, b2, "%s: same buckets in both formats", src)
			assert.Len(t, b1, len(c1)+1)
		}
	}
	// Static values agree exactly.
	for _, src := range []string{"/gc/gogc:percent", "/sched/gomaxprocs:threads", "/gc/gomemlimit:bytes"} {
		v1, ok1 := text.Int(src)
		v2, ok2 := pb.Int(src)
		assert.True(t, ok1 && ok2, src)
		assert.Equal(t, v1, v2, src)
	}
}

// BenchmarkParseRuntimeMetricsProtobuf parses the same families as
// BenchmarkParseRuntimeMetrics in the delimited protobuf format that
// client_golang serves when asked for it, each time as a first answer
// (new maps, a new arena); BenchmarkReaderProtobuf is the steady state.
func BenchmarkParseRuntimeMetricsProtobuf(b *testing.B) {
	text, err := os.ReadFile(filepath.Join("testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(b, err)
	f, err := Parse(bytes.NewReader(text), "text/plain; version=0.0.4", 16<<20)
	require.NoError(b, err)
	format := expfmt.NewFormat(expfmt.TypeProtoDelim)
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, name := range f.Names() {
		mf, _ := f.Family(name)
		require.NoError(b, enc.Encode(mf))
	}
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(body), string(format), 16<<20); err != nil {
			b.Fatal(err)
		}
	}
}
