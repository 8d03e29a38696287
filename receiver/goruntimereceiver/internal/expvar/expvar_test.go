package expvar

import (
	stdexpvar "expvar"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	requests = stdexpvar.NewInt("requests_total")
	byCode   = stdexpvar.NewMap("responses")
	_        = stdexpvar.NewString("version")
)

// debugVars fetches this process's real /debug/vars.
func debugVars(t testing.TB) []byte {
	t.Helper()
	srv := httptest.NewServer(stdexpvar.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func TestParseRealDebugVars(t *testing.T) {
	requests.Add(7)
	byCode.Add("200", 5)
	byCode.Add("500", 1)
	runtime.GC()
	v, err := Parse(strings.NewReader(string(debugVars(t))), 1<<20, func(name string) bool {
		return strings.HasPrefix(name, "requests") || strings.HasPrefix(name, "responses.")
	})
	require.NoError(t, err)
	require.NotNil(t, v.MemStats)
	assert.Positive(t, v.MemStats.NumGC)
	assert.Positive(t, v.MemStats.HeapAlloc)
	assert.GreaterOrEqual(t, v.MemStats.Sys, v.MemStats.HeapSys)
	assert.NotEmpty(t, v.Cmdline)
	assert.Equal(t, map[string]float64{"requests_total": 7, "responses.200": 5, "responses.500": 1}, v.Numbers)
}

func TestParseKeepsNoUserVariablesWithoutInclude(t *testing.T) {
	v, err := Parse(strings.NewReader(`{"memstats":{"NumGC":3},"x":1}`), 1<<20, nil)
	require.NoError(t, err)
	assert.Nil(t, v.Numbers)
	assert.Equal(t, uint32(3), v.MemStats.NumGC)
}

func TestParseRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		body, want string
		max        int64
	}{
		"not JSON":           {body: "<html>", want: "not a /debug/vars JSON object"},
		"truncated":          {body: `{"memstats":{"NumGC":1`, want: "not a /debug/vars JSON object"},
		"array":              {body: `[1,2]`, want: "not a /debug/vars JSON object"},
		"memstats of a type": {body: `{"memstats":"lots"}`, want: "memstats:"},
		"negative counter":   {body: `{"memstats":{"NumGC":-1}}`, want: "memstats:"},
		"too large":          {body: `{"memstats":{}}`, max: 5, want: "response larger than the limit: more than 5 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			maxBytes := tc.max
			if maxBytes == 0 {
				maxBytes = 1 << 20
			}
			_, err := Parse(strings.NewReader(tc.body), maxBytes, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParseWithoutMemstats(t *testing.T) {
	v, err := Parse(strings.NewReader(`{"cmdline":["x"]}`), 1<<20, nil)
	require.NoError(t, err)
	assert.Nil(t, v.MemStats, "a service without memstats gives none, not zeros")
}

// TestPausesAreExact runs real GC cycles between two reads of the real
// /debug/vars: the cycles reported equal the change in NumGC, and their
// durations add up to the change in PauseTotalNs.
func TestPausesAreExact(t *testing.T) {
	read := func() *MemStats {
		v, err := Parse(strings.NewReader(string(debugVars(t))), 1<<20, nil)
		require.NoError(t, err)
		return v.MemStats
	}
	var tr PauseTracker
	first := read()
	u := tr.Update(first, nil)
	assert.True(t, u.First)
	assert.Empty(t, u.Pauses)

	for range 37 {
		runtime.GC()
	}
	second := read()
	u = tr.Update(second, nil)
	require.False(t, u.First || u.Restarted)
	require.Len(t, u.Pauses, int(second.NumGC-first.NumGC))
	var sum time.Duration
	for i, p := range u.Pauses {
		sum += p.Duration
		assert.Equal(t, first.NumGC+uint32(i)+1, p.Cycle)
		assert.False(t, p.End.IsZero())
	}
	assert.Equal(t, time.Duration(second.PauseTotalNs-first.PauseTotalNs), sum)
	assert.Zero(t, u.Lost)
}

func TestPausesLostFromTheRing(t *testing.T) {
	var tr PauseTracker
	tr.Update(&MemStats{NumGC: 10, PauseTotalNs: 100}, nil)
	ms := &MemStats{NumGC: 310, PauseTotalNs: 100 + 300}
	for i := range ms.PauseNs {
		ms.PauseNs[i] = 1
	}
	u := tr.Update(ms, nil)
	assert.Equal(t, uint64(44), u.Lost, "300 cycles, 256 readable")
	require.Len(t, u.Pauses, RingSize)
	assert.Equal(t, uint32(55), u.Pauses[0].Cycle, "the oldest readable cycle is NumGC-256+1")
	assert.Equal(t, uint32(310), u.Pauses[RingSize-1].Cycle)
}

func TestRestartStartsOver(t *testing.T) {
	var tr PauseTracker
	tr.Update(&MemStats{NumGC: 500, PauseTotalNs: 9000}, nil)
	u := tr.Update(&MemStats{NumGC: 3, PauseTotalNs: 30}, nil)
	assert.True(t, u.Restarted)
	assert.Empty(t, u.Pauses, "nothing is reported across a restart")
	ms := &MemStats{NumGC: 5, PauseTotalNs: 50}
	ms.PauseNs[3], ms.PauseNs[4] = 7, 13
	u = tr.Update(ms, nil)
	require.Len(t, u.Pauses, 2)
	assert.Equal(t, []time.Duration{7, 13}, []time.Duration{u.Pauses[0].Duration, u.Pauses[1].Duration})
	// PauseTotalNs going down alone also means a restart.
	u = tr.Update(&MemStats{NumGC: 5, PauseTotalNs: 10}, nil)
	assert.True(t, u.Restarted)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"memstats":{"NumGC":2,"PauseNs":[1,2]},"cmdline":["a"],"n":1,"m":{"a":{"b":2}}}`))
	f.Add(debugVars(f))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := Parse(strings.NewReader(string(body)), 1<<16, func(string) bool { return true })
		if err != nil {
			return
		}
		if v.MemStats != nil {
			var tr PauseTracker
			tr.Update(v.MemStats, nil)
			u := tr.Update(v.MemStats, nil)
			if len(u.Pauses) != 0 {
				t.Fatalf("no cycles between identical memstats, got %d", len(u.Pauses))
			}
		}
	})
}

func BenchmarkParseDebugVars(b *testing.B) {
	body := debugVars(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(strings.NewReader(string(body)), 1<<20, nil); err != nil {
			b.Fatal(err)
		}
	}
}
