package expvar

import (
	"bytes"
	"encoding/json"
	"errors"
	stdexpvar "expvar"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
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

// reference reads body with encoding/json alone: what Parse must agree
// with. It returns the memstats, the numbers include keeps (in document
// order, a later one replacing an earlier one) and the kind of error.
func reference(body []byte, include func(string) bool) (*MemStats, map[string]float64, error) {
	if !json.Valid(body) {
		return nil, nil, ErrNotJSON
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, nil, ErrNotJSON
	}
	var ms *MemStats
	if raw, ok := top["memstats"]; ok {
		ms = &MemStats{}
		if err := json.Unmarshal(raw, ms); err != nil {
			return nil, nil, errMemStats
		}
	}
	if include == nil || top == nil {
		return ms, nil, nil
	}
	var numbers map[string]float64
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var walk func(name string, depth int)
	token := func() json.Token {
		tok, err := dec.Token()
		if err != nil {
			panic(fmt.Sprintf("reading valid JSON token by token: %v", err))
		}
		return tok
	}
	walk = func(name string, depth int) {
		tok := token()
		switch tok := tok.(type) {
		case json.Delim:
			if tok == '{' && depth < maxDepth {
				for dec.More() {
					walk(name+"."+token().(string), depth+1)
				}
				token()
				return
			}
			for n := 1; n > 0; { // skip to the matching close
				if d, ok := token().(json.Delim); ok {
					if d == '{' || d == '[' {
						n++
					} else {
						n--
					}
				}
			}
		case json.Number:
			if !include(name) {
				return
			}
			if f, err := strconv.ParseFloat(string(tok), 64); err == nil {
				if numbers == nil {
					numbers = map[string]float64{}
				}
				numbers[name] = f
			}
		}
	}
	token() // {
	for dec.More() {
		key := token()
		if key == "memstats" {
			var skip json.RawMessage
			_ = dec.Decode(&skip)
			continue
		}
		walk(key.(string), 0)
	}
	return ms, numbers, nil
}

var errMemStats = errors.New("memstats error")

// kind says which of reference's errors err is.
func kind(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotJSON):
		return ErrNotJSON
	case strings.HasPrefix(err.Error(), "memstats: "):
		return errMemStats
	}
	return err
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, body := range []string{
		string(debugVars(t)),
		`null`, ` {} `, `{"memstats":null}`, `{"memstats":{"NumGC":null}}`,
		`{"memstats":{"numgc":3,"PAUSENS":[1,2],"\u0041lloc":4,"ſys":5,"\u212aey":1}}`,
		`{"memstats":{"PauseNs":[1,2,3]},"memstats":{"PauseNs":[7]}}`,
		`{"memstats":{"PauseNs":[1,2,3],"PauseNs":[null,9]}}`,
		`{"memstats":{"NumGC":4294967296}}`, `{"memstats":{"NumGC":1.0}}`, `{"memstats":{"NumGC":-0}}`,
		`{"memstats":{"GCCPUFraction":1e400}}`, `{"memstats":{"GCCPUFraction":-1.5e-3}}`,
		`{"memstats":{"PauseNs":"x"}}`, `{"memstats":{"PauseNs":[[1]]}}`, `{"memstats":[]}`,
		`{"memstats":{"NumGC":"1"}},`, "{}\x00", "\x00", `{"memstats":{"NumGC":1}} x`, `{"memstats":{"NumGC":01}}`,
		`{"a":{"b":{"c":{"d":{"e":1,"f":{"g":2}}}}},"a.b":3,"n":-2.5e2,"big":1e999}`,
		`{"\u00e9t\u00e9":1,"badÿ":2,"e":{"k\n":3}}`,
		`{"a":1,"a":{"x":2},"a":3}`, `[1]`, `"memstats"`, `{"x":"\u12"}`, `{"x":"a` + "\x01" + `"}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		`{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
		`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		checkAgainstReference(t, []byte(body))
	}
}

func checkAgainstReference(t *testing.T, body []byte) {
	t.Helper()
	include := func(name string) bool { return !strings.HasPrefix(name, "x") }
	wantMS, wantNumbers, wantErr := reference(body, include)
	got, err := Parse(bytes.NewReader(body), 1<<24, include)
	short := body
	if len(short) > 200 {
		short = short[:200]
	}
	if !errors.Is(kind(err), wantErr) {
		t.Fatalf("%q: error %v, encoding/json gives %v", short, err, wantErr)
	}
	if err != nil {
		return
	}
	if (got.MemStats == nil) != (wantMS == nil) || wantMS != nil && *got.MemStats != *wantMS {
		// Not require.Equal: its diff of two 4 KiB structs takes minutes.
		t.Fatalf("%q: memstats differ\n got %+v\nwant %+v", short, got.MemStats, wantMS)
	}
	if !maps.Equal(got.Numbers, wantNumbers) || (got.Numbers == nil) != (wantNumbers == nil) {
		t.Fatalf("%q: numbers %v, encoding/json gives %v", short, got.Numbers, wantNumbers)
	}
}

// FuzzParseMatchesEncodingJSON holds the hand-written reader to what
// encoding/json makes of the same bytes.
func FuzzParseMatchesEncodingJSON(f *testing.F) {
	f.Add([]byte(`{"memstats":{"NumGC":2,"PauseNs":[1,2],"numforcedgc":1},"n":1,"m":{"a":{"b":2}},"x":[{"y":null}]}`))
	f.Add(debugVars(f))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgainstReference(t, body)
	})
}

func TestParserReusesItsBuffers(t *testing.T) {
	// The body's buffer comes from a pool (see bodybuf); parsing it into
	// a target's values allocates nothing.
	body := debugVars(t)
	var p Parser
	_, err := parse(body, nil, &p.vars, &p.ms)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := parse(body, nil, &p.vars, &p.ms); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "a warm parser allocates nothing")
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

// BenchmarkParserDebugVars is a target's steady state: one Parser reused.
func BenchmarkParserDebugVars(b *testing.B) {
	for range RingSize {
		runtime.GC() // a full ring, as in a service that has run a while
	}
	body := debugVars(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var p Parser
	r := bytes.NewReader(body)
	for b.Loop() {
		r.Reset(body)
		if _, err := p.Parse(r, 1<<20, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCountersAtTheEdgeOfUint64(t *testing.T) {
	for _, n := range []string{
		"0", "9", "1234567890123456789", "9999999999999999999", "10000000000000000000",
		"18446744073709551615", "18446744073709551616", "99999999999999999999", "100000000000000000000", "123.0", "1e3", "01",
	} {
		checkAgainstReference(t, []byte(`{"memstats":{"Alloc":`+n+`,"PauseNs":[`+n+`,`+n+`]}}`))
	}
}

func TestRingsPastTheirLength(t *testing.T) {
	long := strings.TrimSuffix(strings.Repeat("1,", RingSize), ",")
	for _, tail := range []string{"", ",7", ",1.5", ",-1", `,"x"`, ",[1]", ",99999999999999999999", ",null", ",{}"} {
		checkAgainstReference(t, []byte(`{"memstats":{"PauseNs":[`+long+tail+`],"PauseEnd":[1.5,2]}}`))
		checkAgainstReference(t, []byte(`{"memstats":{"PauseNs":[`+long+tail+`]}}`))
	}
}

func TestParserReadsOnAfterAnOversizedAnswer(t *testing.T) {
	var p Parser
	_, err := p.Parse(strings.NewReader(`{"memstats":{"NumGC":1}}`), 1<<20, nil)
	require.NoError(t, err)
	_, err = p.Parse(strings.NewReader(`{"x":"`+strings.Repeat("a", 1<<20)+`"}`), 1<<16, nil)
	require.ErrorIs(t, err, ErrTooLarge)
	v, err := p.Parse(strings.NewReader(`{"memstats":{"NumGC":2}}`), 1<<20, nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(2), v.MemStats.NumGC)
}
