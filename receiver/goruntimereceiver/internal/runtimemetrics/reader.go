// Package runtimemetrics reads the Go runtime's own metrics (runtime/metrics)
// of the current process into a fixed snapshot, without allocating once the
// first read has sized the histograms.
package runtimemetrics // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/runtimemetrics"

import (
	"math"
	"runtime/metrics"
)

// Names of the runtime/metrics keys the snapshot is built from.
const (
	MemoryTotal        = "/memory/classes/total:bytes"
	HeapReleased       = "/memory/classes/heap/released:bytes"
	HeapStacks         = "/memory/classes/heap/stacks:bytes"
	MemoryLimit        = "/gc/gomemlimit:bytes"
	HeapAllocsBytes    = "/gc/heap/allocs:bytes"
	HeapAllocsObjects  = "/gc/heap/allocs:objects"
	HeapGoal           = "/gc/heap/goal:bytes"
	GCCycles           = "/gc/cycles/total:gc-cycles"
	GOGC               = "/gc/gogc:percent"
	Goroutines         = "/sched/goroutines:goroutines"
	GoroutinesCreated  = "/sched/goroutines-created:goroutines"
	GoroutinesRunning  = "/sched/goroutines/running:goroutines"
	GoroutinesRunnable = "/sched/goroutines/runnable:goroutines"
	GoroutinesWaiting  = "/sched/goroutines/waiting:goroutines"
	GoroutinesNotInGo  = "/sched/goroutines/not-in-go:goroutines"
	GOMAXPROCS         = "/sched/gomaxprocs:threads"
	CPUUser            = "/cpu/classes/user:cpu-seconds"
	CPUGC              = "/cpu/classes/gc/total:cpu-seconds"
	CPUScavenge        = "/cpu/classes/scavenge/total:cpu-seconds"
	CPUIdle            = "/cpu/classes/idle:cpu-seconds"
	SchedLatencies     = "/sched/latencies:seconds"
	// GCPauses is the per-pause histogram of GC stop-the-world time since Go 1.24.
	GCPauses = "/sched/pauses/total/gc:seconds"
	// GCPausesLegacy is the deprecated name of GCPauses, read where GCPauses is missing.
	GCPausesLegacy = "/gc/pauses:seconds"
)

// Key indexes the values of a Snapshot.
type Key int

// The keys of a Snapshot, one per runtime/metrics value it reads.
const (
	KeyMemoryTotal Key = iota
	KeyHeapReleased
	KeyHeapStacks
	KeyMemoryLimit
	KeyHeapAllocsBytes
	KeyHeapAllocsObjects
	KeyHeapGoal
	KeyGCCycles
	KeyGOGC
	KeyGoroutines
	KeyGoroutinesCreated
	KeyGoroutinesRunning
	KeyGoroutinesRunnable
	KeyGoroutinesWaiting
	KeyGoroutinesNotInGo
	KeyGOMAXPROCS
	KeyCPUUser
	KeyCPUGC
	KeyCPUScavenge
	KeyCPUIdle
	KeySchedLatencies
	KeyGCPauses
	numKeys
)

// names maps each Key to its runtime/metrics name, in Key order.
var names = [numKeys]string{
	MemoryTotal, HeapReleased, HeapStacks, MemoryLimit, HeapAllocsBytes,
	HeapAllocsObjects, HeapGoal, GCCycles, GOGC, Goroutines, GoroutinesCreated,
	GoroutinesRunning, GoroutinesRunnable, GoroutinesWaiting, GoroutinesNotInGo,
	GOMAXPROCS, CPUUser, CPUGC, CPUScavenge, CPUIdle, SchedLatencies, GCPauses,
}

// Reader reads a fixed set of runtime/metrics values. It is not safe for
// concurrent use: the snapshot it returns is overwritten by the next Read.
type Reader struct {
	// samples holds only the metrics this runtime supports; pos maps a Key
	// to its index in samples, or -1 where the runtime lacks it.
	samples []metrics.Sample
	pos     [numKeys]int
}

// NewReader returns a Reader for the metrics this runtime supports. A metric
// the runtime does not have is absent from every snapshot, never zero.
func NewReader() *Reader {
	supported := make(map[string]metrics.ValueKind)
	for _, d := range metrics.All() {
		supported[d.Name] = d.Kind
	}
	r := &Reader{}
	for k := range numKeys {
		name := names[k]
		if k == KeyGCPauses {
			if _, ok := supported[name]; !ok {
				name = GCPausesLegacy
			}
		}
		if _, ok := supported[name]; !ok {
			r.pos[k] = -1
			continue
		}
		r.pos[k] = len(r.samples)
		r.samples = append(r.samples, metrics.Sample{Name: name})
	}
	return r
}

// Read takes a new snapshot. After the first call it allocates nothing: the
// runtime reuses the histograms held by the samples.
func (r *Reader) Read() Snapshot {
	metrics.Read(r.samples)
	return Snapshot{r: r}
}

// Snapshot gives typed access to the values of the last Read.
type Snapshot struct {
	r *Reader
}

func (s Snapshot) value(k Key) (metrics.Value, bool) {
	i := s.r.pos[k]
	if i < 0 {
		return metrics.Value{}, false
	}
	v := s.r.samples[i].Value
	return v, v.Kind() != metrics.KindBad
}

// Uint returns an integer metric, clamped to math.MaxInt64, and whether the
// runtime provides it.
func (s Snapshot) Uint(k Key) (int64, bool) {
	v, ok := s.value(k)
	if !ok || v.Kind() != metrics.KindUint64 {
		return 0, false
	}
	u := v.Uint64()
	if u > math.MaxInt64 {
		return math.MaxInt64, true
	}
	return int64(u), true
}

// Float returns a float metric and whether the runtime provides it.
func (s Snapshot) Float(k Key) (float64, bool) {
	v, ok := s.value(k)
	if !ok || v.Kind() != metrics.KindFloat64 {
		return 0, false
	}
	return v.Float64(), true
}

// Histogram returns a histogram metric and whether the runtime provides it.
// The histogram is owned by the Reader and changes on the next Read.
func (s Snapshot) Histogram(k Key) (*metrics.Float64Histogram, bool) {
	v, ok := s.value(k)
	if !ok || v.Kind() != metrics.KindFloat64Histogram {
		return nil, false
	}
	return v.Float64Histogram(), true
}

// Name returns the runtime/metrics name read for k, or "" where the runtime
// lacks it.
func (r *Reader) Name(k Key) string {
	if i := r.pos[k]; i >= 0 {
		return r.samples[i].Name
	}
	return ""
}
