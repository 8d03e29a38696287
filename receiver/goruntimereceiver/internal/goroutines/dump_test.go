package goroutines

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func chanWaiter(c chan struct{}) { <-c }

func selectWaiter(c chan struct{}) {
	other := make(chan struct{})
	select {
	case <-c:
	case <-other:
	}
}

func mutexWaiter(mu *sync.Mutex) {
	mu.Lock()
	mu.Unlock() //nolint:staticcheck // reached when the test releases the lock
}

// startBlocked starts goroutines blocked in known ways, all created by this
// function; stop releases them.
func startBlocked(chans, selects, mutexes int) (stop func()) {
	release := make(chan struct{})
	var mu sync.Mutex
	mu.Lock()
	var wg sync.WaitGroup
	for range chans {
		wg.Add(1)
		go func() { defer wg.Done(); chanWaiter(release) }()
	}
	for range selects {
		wg.Add(1)
		go func() { defer wg.Done(); selectWaiter(release) }()
	}
	for range mutexes {
		wg.Add(1)
		go func() { defer wg.Done(); mutexWaiter(&mu) }()
	}
	return func() {
		close(release)
		mu.Unlock()
		wg.Wait()
	}
}

func dump(t *testing.T, debug int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&b, debug))
	return b.Bytes()
}

// waitFor retries until the runtime shows the goroutines blocked.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("goroutines did not block in time")
}

func TestDebug2OfThisProcess(t *testing.T) {
	stop := startBlocked(5, 3, 2)
	defer stop()
	var s *Summary
	waitFor(t, func() bool {
		var err error
		s, err = ParseDebug2(bytes.NewReader(dump(t, 2)), 1<<20)
		require.NoError(t, err)
		return s.ByStatus["chan receive"] >= 5 && s.ByStatus["select"] >= 3 && s.ByStatus["sync.Mutex.Lock"] >= 2
	})
	assert.False(t, s.Grouped)
	assert.Positive(t, s.ByStatus["running"], "this goroutine is running")
	creator := "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/goroutines.startBlocked"
	assert.Equal(t, 10, s.ByCreator[creator], "every blocked goroutine is attributed to startBlocked")
	total := 0
	for _, n := range s.ByStatus {
		total += n
	}
	assert.Equal(t, s.Total, total)
	assert.Equal(t, s.Total, s.ByWaitAge[UnderOneMinute])
}

func TestDebug1OfThisProcess(t *testing.T) {
	stop := startBlocked(4, 0, 0)
	defer stop()
	var s *Summary
	waitFor(t, func() bool {
		var err error
		s, err = ParseDebug1(bytes.NewReader(dump(t, 1)), 1<<20)
		require.NoError(t, err)
		return s.ByCreator["github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/goroutines.startBlocked.func1"] >= 4
	})
	assert.True(t, s.Grouped)
	assert.Positive(t, s.Total)
	assert.Empty(t, s.ByStatus, "debug=1 has no statuses")
}

func TestHeaderForms(t *testing.T) {
	in := `goroutine 1 [running]:
main.main()
	/x.go:1 +0x1

goroutine 7 [chan receive, 5 minutes]:
main.worker()
	/x.go:2 +0x2
created by main.start in goroutine 1
	/x.go:3 +0x3

goroutine 8 [select, 125 minutes, locked to thread]:
created by main.start
	/x.go:4 +0x4

goroutine 9 [sync.WaitGroup.Wait (leaked), 1 minute]:
created by main.leaky in goroutine 1
	/x.go:5

goroutine 10 [chan receive (nil chan)]:
created by main.start in goroutine 1
`
	s, err := ParseDebug2(strings.NewReader(in), 1<<20)
	require.NoError(t, err)
	assert.Equal(t, 5, s.Total)
	assert.Equal(t, map[string]int{"running": 1, "chan receive": 1, "select": 1, "sync.WaitGroup.Wait": 1, "chan receive (nil chan)": 1}, s.ByStatus)
	assert.Equal(t, [NumWaitAges]int{2, 1, 1, 0, 1}, s.ByWaitAge)
	assert.Equal(t, map[string]int{"": 1, "main.start": 3, "main.leaky": 1}, s.ByCreator)
	assert.Equal(t, 1, s.Leaked)
	assert.Equal(t, 1, s.LockedToThread)
}

func TestHostileDumps(t *testing.T) {
	var big strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&big, "goroutine %d [chan receive]:\nmain.w()\n\t/x.go:1 +0x1\ncreated by main.s in goroutine 1\n\t/x.go:2 +0x2\n\n", i+1)
	}
	_, err := ParseDebug2(strings.NewReader(big.String()), 1<<20)
	require.ErrorIs(t, err, ErrTooLarge, "a 100k-goroutine dump is over a 1 MiB cap")
	s, err := ParseDebug2(strings.NewReader(big.String()), int64(big.Len()))
	require.NoError(t, err, "and parses within a cap that fits it")
	assert.Equal(t, 100_000, s.Total)
	assert.Equal(t, 100_000, s.ByCreator["main.s"])

	for name, in := range map[string]string{
		"html":       "<html>not a dump</html>",
		"empty":      "",
		"long line":  "goroutine 1 [" + strings.Repeat("x", 2<<20) + "]:\n",
		"bad header": "goroutine 1 running]:\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDebug2(strings.NewReader(in), 8<<20)
			require.Error(t, err)
		})
	}
	_, err = ParseDebug1(strings.NewReader("nonsense"), 1<<20)
	require.ErrorContains(t, err, "no \"goroutine profile: total\" line")
	_, err = ParseDebug1(strings.NewReader("goroutine profile: total x\n"), 1<<20)
	require.ErrorContains(t, err, "malformed total")
}

func TestTop(t *testing.T) {
	top, rest := Top(map[string]int{"a": 5, "b": 9, "c": 1, "d": 5}, 2)
	assert.Equal(t, []KV{{"b", 9}, {"a", 5}}, top)
	assert.Equal(t, 6, rest)
}

func FuzzParseDebug2(f *testing.F) {
	f.Add("goroutine 1 [running]:\nmain.main()\n\ngoroutine 2 [select, 3 minutes]:\ncreated by x in goroutine 1\n")
	f.Add("goroutine 1 [(leaked), , 9999999999999999999 minutes]:\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseDebug2(strings.NewReader(in), 1<<16)
		if err != nil {
			return
		}
		n := 0
		for _, c := range s.ByStatus {
			n += c
		}
		if n != s.Total {
			t.Fatalf("statuses add up to %d of %d goroutines", n, s.Total)
		}
	})
}

func FuzzParseDebug1(f *testing.F) {
	f.Add("goroutine profile: total 3\n2 @ 0x1 0x2\n#\t0x1\tmain.a+0x1\t/x.go:1\n\n1 @ 0x3\n#\t0x3\tmain.b+0x2\t/x.go:2\n")
	f.Fuzz(func(_ *testing.T, in string) {
		_, _ = ParseDebug1(strings.NewReader(in), 1<<16)
	})
}

func BenchmarkParseDebug2(b *testing.B) {
	var in strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&in, "goroutine %d [chan receive, %d minutes]:\nmain.w(0xc000010000)\n\t/src/main.go:10 +0x25\ncreated by main.s in goroutine 1\n\t/src/main.go:20 +0x30\n\n", i+1, i%200)
	}
	body := in.String()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDebug2(strings.NewReader(body), 16<<20); err != nil {
			b.Fatal(err)
		}
	}
}
