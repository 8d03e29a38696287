package model

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

// RuntimeValues gives runtime/metrics values by their runtime/metrics name
// (such as "/gc/heap/allocs:bytes"), from wherever a source read them.
type RuntimeValues interface {
	// Int returns an integer-valued metric.
	Int(name string) (int64, bool)
	// Float returns a float-valued metric.
	Float(name string) (float64, bool)
	// Histogram returns a histogram in runtime/metrics' layout: bucket i
	// holds values in [boundaries[i], boundaries[i+1]), so there is one
	// more boundary than counts.
	Histogram(name string) (boundaries []float64, counts []uint64, ok bool)
}

// RuntimeNames lists every runtime/metrics name the model reads.
var RuntimeNames = func() []string {
	names := []string{
		"/memory/classes/total:bytes", "/gc/gomemlimit:bytes", "/gc/heap/allocs:bytes",
		"/gc/heap/allocs:objects", "/gc/heap/frees:objects", "/gc/heap/objects:objects",
		"/gc/heap/goal:bytes", "/gc/cycles/total:gc-cycles", "/gc/cycles/forced:gc-cycles",
		"/gc/gogc:percent", "/sched/goroutines:goroutines", "/sched/goroutines-created:goroutines",
		"/sched/gomaxprocs:threads", "/sched/latencies:seconds", "/sched/pauses/total/gc:seconds",
		"/gc/pauses:seconds", "/gc/heap/live:bytes", "/sched/threads/total:threads",
		"/cgo/go-to-c-calls:calls", "/sync/mutex/wait/total:seconds",
	}
	for _, c := range memoryClasses {
		names = append(names, c.name)
	}
	for _, s := range goroutineStates {
		names = append(names, s.name)
	}
	for _, c := range cpuStates {
		names = append(names, c.name)
	}
	return names
}()

var memoryClasses = []struct {
	name  string
	class metadata.AttributeGoMemoryClass
}{
	{"/memory/classes/heap/objects:bytes", metadata.AttributeGoMemoryClassHeapObjects},
	{"/memory/classes/heap/unused:bytes", metadata.AttributeGoMemoryClassHeapUnused},
	{"/memory/classes/heap/free:bytes", metadata.AttributeGoMemoryClassHeapFree},
	{"/memory/classes/heap/released:bytes", metadata.AttributeGoMemoryClassHeapReleased},
	{"/memory/classes/heap/stacks:bytes", metadata.AttributeGoMemoryClassHeapStacks},
	{"/memory/classes/os-stacks:bytes", metadata.AttributeGoMemoryClassOsStacks},
	{"/memory/classes/metadata/mspan/inuse:bytes", metadata.AttributeGoMemoryClassMetadataMspanInuse},
	{"/memory/classes/metadata/mspan/free:bytes", metadata.AttributeGoMemoryClassMetadataMspanFree},
	{"/memory/classes/metadata/mcache/inuse:bytes", metadata.AttributeGoMemoryClassMetadataMcacheInuse},
	{"/memory/classes/metadata/mcache/free:bytes", metadata.AttributeGoMemoryClassMetadataMcacheFree},
	{"/memory/classes/metadata/other:bytes", metadata.AttributeGoMemoryClassMetadataOther},
	{"/memory/classes/profiling/buckets:bytes", metadata.AttributeGoMemoryClassProfilingBuckets},
	{"/memory/classes/other:bytes", metadata.AttributeGoMemoryClassOther},
}

var goroutineStates = []struct {
	name  string
	state metadata.AttributeGoGoroutineState
}{
	{"/sched/goroutines/running:goroutines", metadata.AttributeGoGoroutineStateRunning},
	{"/sched/goroutines/runnable:goroutines", metadata.AttributeGoGoroutineStateRunnable},
	{"/sched/goroutines/waiting:goroutines", metadata.AttributeGoGoroutineStateWaiting},
	{"/sched/goroutines/not-in-go:goroutines", metadata.AttributeGoGoroutineStateNotInGo},
}

var cpuStates = []struct {
	name  string
	state metadata.AttributeGoCPUState
}{
	{"/cpu/classes/user:cpu-seconds", metadata.AttributeGoCPUStateUser},
	{"/cpu/classes/gc/total:cpu-seconds", metadata.AttributeGoCPUStateGc},
	{"/cpu/classes/scavenge/total:cpu-seconds", metadata.AttributeGoCPUStateScavenge},
	{"/cpu/classes/idle:cpu-seconds", metadata.AttributeGoCPUStateIdle},
}

// MetricSet is a set of the model metrics RecordRuntime records; the zero
// value is empty. A bit set: one scrape builds one, and a map cost an
// allocation and a dozen inserts every scrape.
type MetricSet struct{ bits uint64 }

// setMetrics are the metrics a MetricSet holds.
var setMetrics = []string{
	"go.memory.used", "go.memory.class.used", "go.memory.limit", "go.memory.allocated",
	"go.memory.allocations", "go.memory.frees", "go.memory.heap.objects", "go.memory.gc.goal",
	"go.memory.gc.cycles", "go.memory.gc.cycles.forced", "go.config.gogc", "go.goroutine.count",
	"go.goroutine.created", "go.processor.limit", "go.memory.heap.live", "go.thread.count",
	"go.cgo.calls", "go.sync.mutex.wait.time", "go.goroutine.state.count", "go.cpu.time",
}

var setBit = func() map[string]uint64 {
	m := make(map[string]uint64, len(setMetrics))
	for i, name := range setMetrics {
		m[name] = 1 << i
	}
	return m
}()

// With returns the set with metric added.
func (s MetricSet) With(metric string) MetricSet {
	s.add(metric)
	return s
}

// Has reports whether the set holds metric.
func (s MetricSet) Has(metric string) bool { return s.bits&setBit[metric] != 0 }

func (s *MetricSet) add(metric string) {
	b := setBit[metric]
	if b == 0 {
		panic("model: " + metric + " is not in setMetrics")
	}
	s.bits |= b
}

// RecordRuntime records every model metric v provides and returns the
// names it recorded. A metric whose inputs v lacks is left out. A metric in
// skip, which another source of the same target already recorded, is not
// recorded again.
func RecordRuntime(mb *metadata.MetricsBuilder, ts pcommon.Timestamp, v RuntimeValues, skip MetricSet) MetricSet {
	var done MetricSet
	rec := func(metric, name string, fn func(pcommon.Timestamp, int64)) {
		if skip.Has(metric) {
			return
		}
		if x, ok := v.Int(name); ok {
			fn(ts, x)
			done.add(metric)
		}
	}
	if !skip.Has("go.memory.used") {
		total, okT := v.Int("/memory/classes/total:bytes")
		released, okR := v.Int("/memory/classes/heap/released:bytes")
		stacks, okS := v.Int("/memory/classes/heap/stacks:bytes")
		if okS {
			mb.RecordGoMemoryUsedDataPoint(ts, stacks, metadata.AttributeGoMemoryTypeStack)
			done.add("go.memory.used")
		}
		if okT && okR && okS {
			mb.RecordGoMemoryUsedDataPoint(ts, total-released-stacks, metadata.AttributeGoMemoryTypeOther)
		}
	}
	if !skip.Has("go.memory.class.used") {
		for _, c := range memoryClasses {
			if x, ok := v.Int(c.name); ok {
				mb.RecordGoMemoryClassUsedDataPoint(ts, x, c.class)
				done.add("go.memory.class.used")
			}
		}
	}
	if !skip.Has("go.memory.limit") {
		if x, ok := v.Int("/gc/gomemlimit:bytes"); ok && x != math.MaxInt64 {
			mb.RecordGoMemoryLimitDataPoint(ts, x)
			done.add("go.memory.limit")
		}
	}
	rec("go.memory.allocated", "/gc/heap/allocs:bytes", mb.RecordGoMemoryAllocatedDataPoint)
	rec("go.memory.allocations", "/gc/heap/allocs:objects", mb.RecordGoMemoryAllocationsDataPoint)
	rec("go.memory.frees", "/gc/heap/frees:objects", mb.RecordGoMemoryFreesDataPoint)
	rec("go.memory.heap.objects", "/gc/heap/objects:objects", mb.RecordGoMemoryHeapObjectsDataPoint)
	rec("go.memory.gc.goal", "/gc/heap/goal:bytes", mb.RecordGoMemoryGcGoalDataPoint)
	rec("go.memory.gc.cycles", "/gc/cycles/total:gc-cycles", mb.RecordGoMemoryGcCyclesDataPoint)
	rec("go.memory.gc.cycles.forced", "/gc/cycles/forced:gc-cycles", mb.RecordGoMemoryGcCyclesForcedDataPoint)
	rec("go.config.gogc", "/gc/gogc:percent", mb.RecordGoConfigGogcDataPoint)
	rec("go.goroutine.count", "/sched/goroutines:goroutines", mb.RecordGoGoroutineCountDataPoint)
	rec("go.goroutine.created", "/sched/goroutines-created:goroutines", mb.RecordGoGoroutineCreatedDataPoint)
	rec("go.processor.limit", "/sched/gomaxprocs:threads", mb.RecordGoProcessorLimitDataPoint)
	rec("go.memory.heap.live", "/gc/heap/live:bytes", mb.RecordGoMemoryHeapLiveDataPoint)
	rec("go.thread.count", "/sched/threads/total:threads", mb.RecordGoThreadCountDataPoint)
	rec("go.cgo.calls", "/cgo/go-to-c-calls:calls", mb.RecordGoCgoCallsDataPoint)
	if !skip.Has("go.sync.mutex.wait.time") {
		if x, ok := v.Float("/sync/mutex/wait/total:seconds"); ok {
			mb.RecordGoSyncMutexWaitTimeDataPoint(ts, x)
			done.add("go.sync.mutex.wait.time")
		}
	}
	if !skip.Has("go.goroutine.state.count") {
		for _, s := range goroutineStates {
			if x, ok := v.Int(s.name); ok {
				mb.RecordGoGoroutineStateCountDataPoint(ts, x, s.state)
				done.add("go.goroutine.state.count")
			}
		}
	}
	if !skip.Has("go.cpu.time") {
		for _, c := range cpuStates {
			if x, ok := v.Float(c.name); ok {
				mb.RecordGoCPUTimeDataPoint(ts, x, c.state)
				done.add("go.cpu.time")
			}
		}
	}
	return done
}

// AppendRuntimeHistograms appends the model's histograms v provides.
func AppendRuntimeHistograms(ms pmetric.MetricSlice, v RuntimeValues, start, ts pcommon.Timestamp) {
	{
		if b, c, ok := v.Histogram("/sched/latencies:seconds"); ok {
			AppendRuntimeHistogram(ms, ScheduleDuration, start, ts, b, c)
		}
	}
	{
		b, c, ok := v.Histogram("/sched/pauses/total/gc:seconds")
		if !ok {
			b, c, ok = v.Histogram("/gc/pauses:seconds")
		}
		if ok {
			AppendRuntimeHistogram(ms, GCPauseDuration, start, ts, b, c)
		}
	}
}
