// Package selfsource is the receiver's "self" source: the Go runtime of the
// collector's own process, read through runtime/metrics and mapped to the
// receiver's metric model.
package selfsource // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/selfsource"

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/model"
	rm "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/runtimemetrics"
)

// processStart stands for the process's start time: package initialisation
// runs before main, so the cumulative runtime counters start at most a few
// milliseconds before it.
var processStart = time.Now()

// Identity is what the resource of the self source says about the process.
type Identity struct {
	ServiceName       string
	ServiceInstanceID string
	PID               int
	Executable        string
	GoVersion         string
	VCSRevision       string
}

// OwnIdentity describes the current process; serviceName and instanceID come
// from the collector.
func OwnIdentity(serviceName, instanceID string) Identity {
	id := Identity{
		ServiceName:       serviceName,
		ServiceInstanceID: instanceID,
		PID:               os.Getpid(),
		GoVersion:         runtime.Version(),
	}
	if exe, err := os.Executable(); err == nil {
		id.Executable = filepath.Base(exe)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				id.VCSRevision = s.Value
			}
		}
	}
	return id
}

// Source scrapes the collector's own Go runtime. It is not safe for
// concurrent use; the scraper controller calls it from one goroutine.
type Source struct {
	reader *rm.Reader
	mb     *metadata.MetricsBuilder
	id     Identity
	start  pcommon.Timestamp
}

// New returns a self source emitting the metrics enabled in cfg.
func New(cfg metadata.MetricsBuilderConfig, set receiver.Settings, id Identity) *Source {
	start := pcommon.NewTimestampFromTime(processStart)
	return &Source{
		reader: rm.NewReader(),
		mb:     metadata.NewMetricsBuilder(cfg, set, metadata.WithStartTime(start)),
		id:     id,
		start:  start,
	}
}

// Scrape reads the runtime once and returns one resource with its metrics.
// A metric the runtime does not provide is left out, never reported as zero.
func (s *Source) Scrape(now time.Time) pmetric.Metrics {
	ts := pcommon.NewTimestampFromTime(now)
	snap := s.reader.Read()
	mb := s.mb

	total, okTotal := snap.Uint(rm.KeyMemoryTotal)
	released, okReleased := snap.Uint(rm.KeyHeapReleased)
	stacks, okStacks := snap.Uint(rm.KeyHeapStacks)
	if okStacks {
		mb.RecordGoMemoryUsedDataPoint(ts, stacks, metadata.AttributeGoMemoryTypeStack)
	}
	if okTotal && okReleased && okStacks {
		mb.RecordGoMemoryUsedDataPoint(ts, total-released-stacks, metadata.AttributeGoMemoryTypeOther)
	}
	if v, ok := snap.Uint(rm.KeyMemoryLimit); ok && v != math.MaxInt64 {
		mb.RecordGoMemoryLimitDataPoint(ts, v)
	}
	record(snap, rm.KeyHeapAllocsBytes, ts, mb.RecordGoMemoryAllocatedDataPoint)
	record(snap, rm.KeyHeapAllocsObjects, ts, mb.RecordGoMemoryAllocationsDataPoint)
	record(snap, rm.KeyHeapGoal, ts, mb.RecordGoMemoryGcGoalDataPoint)
	record(snap, rm.KeyGCCycles, ts, mb.RecordGoMemoryGcCyclesDataPoint)
	record(snap, rm.KeyGOGC, ts, mb.RecordGoConfigGogcDataPoint)
	record(snap, rm.KeyGoroutines, ts, mb.RecordGoGoroutineCountDataPoint)
	record(snap, rm.KeyGoroutinesCreated, ts, mb.RecordGoGoroutineCreatedDataPoint)
	record(snap, rm.KeyGOMAXPROCS, ts, mb.RecordGoProcessorLimitDataPoint)
	for _, st := range goroutineStates {
		if v, ok := snap.Uint(st.key); ok {
			mb.RecordGoGoroutineStateCountDataPoint(ts, v, st.attr)
		}
	}
	for _, c := range cpuStates {
		if v, ok := snap.Float(c.key); ok {
			mb.RecordGoCPUTimeDataPoint(ts, v, c.attr)
		}
	}

	rb := mb.NewResourceBuilder()
	rb.SetServiceName(s.id.ServiceName)
	if s.id.ServiceInstanceID != "" {
		rb.SetServiceInstanceID(s.id.ServiceInstanceID)
	}
	rb.SetProcessPid(int64(s.id.PID))
	if s.id.Executable != "" {
		rb.SetProcessExecutableName(s.id.Executable)
	}
	rb.SetProcessRuntimeName("go")
	rb.SetProcessRuntimeVersion(s.id.GoVersion)
	if s.id.VCSRevision != "" {
		rb.SetVcsRefHeadRevision(s.id.VCSRevision)
	}
	res := rb.Emit()
	md := mb.Emit(metadata.WithResource(res))

	// The histograms go into the same scope as the generated metrics.
	var ms pmetric.MetricSlice
	if md.ResourceMetrics().Len() == 0 {
		r := md.ResourceMetrics().AppendEmpty()
		res.CopyTo(r.Resource())
		sm := r.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(metadata.ScopeName)
		ms = sm.Metrics()
	} else {
		ms = md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	}
	if h, ok := snap.Histogram(rm.KeySchedLatencies); ok {
		model.AppendRuntimeHistogram(ms, model.ScheduleDuration, s.start, ts, h.Buckets, h.Counts)
	}
	if h, ok := snap.Histogram(rm.KeyGCPauses); ok {
		model.AppendRuntimeHistogram(ms, model.GCPauseDuration, s.start, ts, h.Buckets, h.Counts)
	}
	return md
}

func record(snap rm.Snapshot, k rm.Key, ts pcommon.Timestamp, fn func(pcommon.Timestamp, int64)) {
	if v, ok := snap.Uint(k); ok {
		fn(ts, v)
	}
}

var goroutineStates = []struct {
	key  rm.Key
	attr metadata.AttributeGoGoroutineState
}{
	{rm.KeyGoroutinesRunning, metadata.AttributeGoGoroutineStateRunning},
	{rm.KeyGoroutinesRunnable, metadata.AttributeGoGoroutineStateRunnable},
	{rm.KeyGoroutinesWaiting, metadata.AttributeGoGoroutineStateWaiting},
	{rm.KeyGoroutinesNotInGo, metadata.AttributeGoGoroutineStateNotInGo},
}

var cpuStates = []struct {
	key  rm.Key
	attr metadata.AttributeGoCPUState
}{
	{rm.KeyCPUUser, metadata.AttributeGoCPUStateUser},
	{rm.KeyCPUGC, metadata.AttributeGoCPUStateGc},
	{rm.KeyCPUScavenge, metadata.AttributeGoCPUStateScavenge},
	{rm.KeyCPUIdle, metadata.AttributeGoCPUStateIdle},
}
