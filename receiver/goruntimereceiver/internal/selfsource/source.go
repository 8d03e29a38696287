// Package selfsource is the receiver's "self" source: the Go runtime of the
// collector's own process, read through runtime/metrics and mapped to the
// receiver's metric model.
package selfsource // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/selfsource"

import (
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
		reader: rm.NewReader(model.RuntimeNames...),
		mb:     metadata.NewMetricsBuilder(cfg, set, metadata.WithStartTime(start)),
		id:     id,
		start:  start,
	}
}

// Scrape reads the runtime once and returns one resource with its metrics.
// A metric the runtime does not provide is left out, never reported as zero.
func (s *Source) Scrape(now time.Time) pmetric.Metrics {
	ts := pcommon.NewTimestampFromTime(now)
	s.reader.Read()
	mb := s.mb
	model.RecordRuntime(mb, ts, s.reader, model.MetricSet{})

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
	model.AppendRuntimeHistograms(ms, s.reader, s.start, ts)
	return md
}
