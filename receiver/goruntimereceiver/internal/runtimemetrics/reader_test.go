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

const (
	goroutines = "/sched/goroutines:goroutines"
	waiting    = "/sched/goroutines/waiting:goroutines"
	created    = "/sched/goroutines-created:goroutines"
	userCPU    = "/cpu/classes/user:cpu-seconds"
	memLimit   = "/gc/gomemlimit:bytes"
	pauses     = "/sched/pauses/total/gc:seconds"
)

func TestUnsupportedNamesAreAbsent(t *testing.T) {
	r := NewReader(goroutines, "/no/such:metric", goroutines)
	r.Read()
	if !r.Has(goroutines) || r.Has("/no/such:metric") {
		t.Fatal("Has does not match what the runtime supports")
	}
	if _, ok := r.Int("/no/such:metric"); ok {
		t.Error("a metric the runtime lacks must read as absent")
	}
	if _, ok := r.Int("/gc/heap/allocs:bytes"); ok {
		t.Error("a metric not asked for must read as absent")
	}
}

func TestGoroutineCountsFollowTheProcess(t *testing.T) {
	r := NewReader(goroutines, waiting, created)
	r.Read()
	createdBefore, _ := r.Int(created)

	const n = 50
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { <-release })
	}
	// The new goroutines block on the channel soon after they start; wait
	// for the runtime to see them all waiting.
	var during, w, c int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.Read()
		during, _ = r.Int(goroutines)
		w, _ = r.Int(waiting)
		c, _ = r.Int(created)
		if w >= n {
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
	if w < n {
		t.Errorf("waiting goroutines %d, want at least %d", w, n)
	}
	if c-createdBefore < n {
		t.Errorf("created went from %d to %d after starting %d", createdBefore, c, n)
	}
}

func TestValuesAreTyped(t *testing.T) {
	r := NewReader(goroutines, userCPU, memLimit)
	r.Read()
	if _, ok := r.Float(goroutines); ok {
		t.Error("an integer metric must not read as a float")
	}
	if _, ok := r.Int(userCPU); ok {
		t.Error("a float metric must not read as an integer")
	}
	// SetMemoryLimit(-1) reads the limit; with none set it is MaxInt64.
	if v, ok := r.Int(memLimit); !ok || v != debug.SetMemoryLimit(-1) {
		t.Errorf("memory limit = %d, %v; the runtime says %d", v, ok, debug.SetMemoryLimit(-1))
	}
}

func TestHistogramLayout(t *testing.T) {
	runtime.GC()
	r := NewReader(pauses)
	r.Read()
	b, c, ok := r.Histogram(pauses)
	if !ok {
		t.Fatal("no pause histogram")
	}
	if len(b) != len(c)+1 {
		t.Fatalf("%d boundaries for %d counts", len(b), len(c))
	}
	var total uint64
	for _, x := range c {
		total += x
	}
	if total == 0 {
		t.Error("no pause counted after runtime.GC()")
	}
}

func allNames() []string {
	var names []string
	for _, d := range metrics.All() {
		names = append(names, d.Name)
	}
	return names
}

func TestReadAllocatesNothingOnceWarm(t *testing.T) {
	r := NewReader(allNames()...)
	r.Read()
	if a := testing.AllocsPerRun(20, r.Read); a != 0 {
		t.Errorf("Read allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { _, _ = r.Int(goroutines); _, _, _ = r.Histogram(pauses) }); a != 0 {
		t.Errorf("lookups allocate %v times", a)
	}
}

func BenchmarkRead(b *testing.B) {
	r := NewReader(goroutines, waiting, created, userCPU, memLimit, pauses, "/sched/latencies:seconds")
	r.Read()
	b.ReportAllocs()
	for b.Loop() {
		r.Read()
	}
}

// BenchmarkReadAll reads every metric the runtime has.
func BenchmarkReadAll(b *testing.B) {
	r := NewReader(allNames()...)
	r.Read()
	b.ReportAllocs()
	for b.Loop() {
		r.Read()
	}
}
