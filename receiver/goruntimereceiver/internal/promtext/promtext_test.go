package promtext

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
