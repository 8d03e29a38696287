package runtimemetrics

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestReadGivesEveryKeyOnThisRuntime(t *testing.T) {
	r := NewReader()
	s := r.Read()
	for k := range numKeys {
		if r.Name(k) == "" {
			t.Errorf("key %d (%s) missing on %s", k, names[k], runtime.Version())
		}
	}
	if _, ok := s.Histogram(KeySchedLatencies); !ok {
		t.Error("no scheduler latency histogram")
	}
	if r.Name(KeyGCPauses) != GCPauses {
		t.Errorf("pause histogram read from %q, want %q", r.Name(KeyGCPauses), GCPauses)
	}
}

func TestGoroutineCountsFollowTheProcess(t *testing.T) {
	r := NewReader()
	createdBefore, _ := r.Read().Uint(KeyGoroutinesCreated)

	const n = 50
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { <-release })
	}
	// The new goroutines block on the channel soon after they start; wait
	// for the runtime to see them all waiting.
	var during, waiting, created int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s := r.Read()
		during, _ = s.Uint(KeyGoroutines)
		waiting, _ = s.Uint(KeyGoroutinesWaiting)
		created, _ = s.Uint(KeyGoroutinesCreated)
		if waiting >= n {
			break
		}
	}
	close(release)
	wg.Wait()

	// Other goroutines of the test binary may end meanwhile, so the live
	// count is checked against n alone; the created count only grows.
	if during < n {
		t.Errorf("%d live goroutines with %d blocked ones", during, n)
	}
	if waiting < n {
		t.Errorf("waiting goroutines %d, want at least %d", waiting, n)
	}
	if created-createdBefore < n {
		t.Errorf("created went from %d to %d after starting %d", createdBefore, created, n)
	}
}

func TestValuesAreTypedAndAbsentKeysAreNotZero(t *testing.T) {
	r := NewReader()
	s := r.Read()
	if _, ok := s.Float(KeyGoroutines); ok {
		t.Error("an integer metric must not read as a float")
	}
	if _, ok := s.Uint(KeyCPUUser); ok {
		t.Error("a float metric must not read as an integer")
	}
	// SetMemoryLimit(-1) reads the limit; with none set it is MaxInt64.
	if v, ok := s.Uint(KeyMemoryLimit); !ok || v != debug.SetMemoryLimit(-1) {
		t.Errorf("memory limit = %d, %v; the runtime says %d", v, ok, debug.SetMemoryLimit(-1))
	}
	r.pos[KeyGOGC] = -1
	if _, ok := s.Uint(KeyGOGC); ok {
		t.Error("a key the runtime lacks must read as absent")
	}
}

func TestHistogramLayout(t *testing.T) {
	runtime.GC()
	h, ok := NewReader().Read().Histogram(KeyGCPauses)
	if !ok {
		t.Fatal("no pause histogram")
	}
	if len(h.Buckets) != len(h.Counts)+1 {
		t.Fatalf("%d boundaries for %d counts", len(h.Buckets), len(h.Counts))
	}
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		t.Error("no pause counted after runtime.GC()")
	}
}

func TestReadAllocatesNothingOnceWarm(t *testing.T) {
	r := NewReader()
	r.Read()
	if a := testing.AllocsPerRun(20, func() { r.Read() }); a != 0 {
		t.Errorf("Read allocates %v times per call", a)
	}
}

func BenchmarkRead(b *testing.B) {
	r := NewReader()
	r.Read()
	b.ReportAllocs()
	for b.Loop() {
		r.Read()
	}
}

// BenchmarkReadAll reads every metric the runtime has, for comparison with
// the subset the reader takes.
func BenchmarkReadAll(b *testing.B) {
	all := metrics.All()
	samples := make([]metrics.Sample, len(all))
	for i, d := range all {
		samples[i].Name = d.Name
	}
	metrics.Read(samples)
	b.ReportAllocs()
	for b.Loop() {
		metrics.Read(samples)
	}
}
