// Package target scrapes one Go service over HTTP and maps what it serves
// to the receiver's metric model. A target's failure shows in its own
// go.scrape.up and never blocks or breaks another target.
package target // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/expvar"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/model"
)

// Settings configure one target.
type Settings struct {
	// Endpoint is the service's base URL, such as http://127.0.0.1:6060.
	Endpoint *url.URL
	// Name is the target's service.name.
	Name string
	// ResourceAttributes are added to the target's resource.
	ResourceAttributes map[string]string
	// MaxResponseSize bounds every response body.
	MaxResponseSize int64
	// ExpvarInclude keeps the numeric /debug/vars variables whose name
	// matches one of them.
	ExpvarInclude []*regexp.Regexp
}

// Target scrapes one service. It is not safe for concurrent use: the
// receiver scrapes each target from one goroutine at a time.
type Target struct {
	s      Settings
	client *http.Client
	mb     *metadata.MetricsBuilder

	// start is when the current cumulative series of this target began: the
	// first scrape, or the scrape that saw the process restart.
	start  pcommon.Timestamp
	pauses expvar.PauseTracker
	buf    []expvar.Pause
	hist   model.ExpHistogram
	lost   uint64
}

// New returns a target scraped with client.
func New(s Settings, client *http.Client, cfg metadata.MetricsBuilderConfig, set receiver.Settings) *Target {
	return &Target{s: s, client: client, mb: metadata.NewMetricsBuilder(cfg, set)}
}

// Scrape reads the target's sources and returns its metrics, with
// go.scrape.up and go.scrape.duration for each source even when it failed,
// and the error of a failed source.
func (t *Target) Scrape(ctx context.Context, now time.Time) (pmetric.Metrics, error) {
	ts := pcommon.NewTimestampFromTime(now)
	if t.start == 0 {
		t.start = ts
		t.mb.Reset(metadata.WithStartTime(ts))
	}
	began := time.Now()
	vars, err := t.fetchExpvar(ctx)
	took := time.Since(began).Seconds()
	var extra []func(pmetric.MetricSlice)
	if err == nil {
		extra = t.recordExpvar(vars, ts)
		t.mb.RecordGoScrapeUpDataPoint(ts, 1, metadata.AttributeGoScrapeSourceExpvar)
	} else {
		t.mb.RecordGoScrapeUpDataPoint(ts, 0, metadata.AttributeGoScrapeSourceExpvar)
		err = fmt.Errorf("target %q: /debug/vars: %w", t.s.Name, err)
	}
	t.mb.RecordGoScrapeDurationDataPoint(ts, took, metadata.AttributeGoScrapeSourceExpvar)

	rb := t.mb.NewResourceBuilder()
	rb.SetServiceName(t.s.Name)
	// host:port, which Prometheus' OTLP translation turns into instance.
	rb.SetServiceInstanceID(t.s.Endpoint.Host)
	rb.SetURLFull(t.s.Endpoint.String())
	rb.SetServerAddress(t.s.Endpoint.Hostname())
	rb.SetProcessRuntimeName("go")
	res := rb.Emit()
	keys := make([]string, 0, len(t.s.ResourceAttributes))
	for k := range t.s.ResourceAttributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		res.Attributes().PutStr(k, t.s.ResourceAttributes[k])
	}
	md := t.mb.Emit(metadata.WithResource(res))
	if len(extra) > 0 && md.ResourceMetrics().Len() > 0 {
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for _, f := range extra {
			f(ms)
		}
	}
	return md, err
}

// fetchExpvar gets and parses /debug/vars.
func (t *Target) fetchExpvar(ctx context.Context) (*expvar.Vars, error) {
	u := t.s.Endpoint.JoinPath("/debug/vars")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	var include func(string) bool
	if len(t.s.ExpvarInclude) > 0 {
		include = func(name string) bool {
			for _, re := range t.s.ExpvarInclude {
				if re.MatchString(name) {
					return true
				}
			}
			return false
		}
	}
	vars, err := expvar.Parse(resp.Body, t.s.MaxResponseSize, include)
	if err != nil {
		return nil, err
	}
	if vars.MemStats == nil {
		return nil, fmt.Errorf("no memstats in the answer")
	}
	return vars, nil
}

// recordExpvar maps memstats to the model and returns the hand-built
// metrics to append after the generated ones.
func (t *Target) recordExpvar(v *expvar.Vars, ts pcommon.Timestamp) []func(pmetric.MetricSlice) {
	ms := v.MemStats
	u := t.pauses.Update(ms, t.buf)
	t.buf = u.Pauses[:0]
	if u.Restarted {
		// A new process: its counters start a new series.
		t.start = ts
		t.mb.Reset(metadata.WithStartTime(ts))
		t.hist.Reset()
		t.lost = 0
	}
	for _, p := range u.Pauses {
		t.hist.Observe(p.Duration.Seconds())
	}
	t.lost += u.Lost

	mb := t.mb
	mb.RecordGoMemoryUsedDataPoint(ts, i64(ms.StackInuse), metadata.AttributeGoMemoryTypeStack)
	mb.RecordGoMemoryUsedDataPoint(ts, i64(ms.Sys)-i64(ms.HeapReleased)-i64(ms.StackInuse), metadata.AttributeGoMemoryTypeOther)
	for _, c := range []struct {
		v     int64
		class metadata.AttributeGoMemoryClass
	}{
		{i64(ms.HeapAlloc), metadata.AttributeGoMemoryClassHeapObjects},
		{i64(ms.HeapInuse) - i64(ms.HeapAlloc), metadata.AttributeGoMemoryClassHeapUnused},
		{i64(ms.HeapIdle) - i64(ms.HeapReleased), metadata.AttributeGoMemoryClassHeapFree},
		{i64(ms.HeapReleased), metadata.AttributeGoMemoryClassHeapReleased},
		{i64(ms.StackInuse), metadata.AttributeGoMemoryClassHeapStacks},
		{i64(ms.StackSys) - i64(ms.StackInuse), metadata.AttributeGoMemoryClassOsStacks},
		{i64(ms.MSpanInuse), metadata.AttributeGoMemoryClassMetadataMspanInuse},
		{i64(ms.MSpanSys) - i64(ms.MSpanInuse), metadata.AttributeGoMemoryClassMetadataMspanFree},
		{i64(ms.MCacheInuse), metadata.AttributeGoMemoryClassMetadataMcacheInuse},
		{i64(ms.MCacheSys) - i64(ms.MCacheInuse), metadata.AttributeGoMemoryClassMetadataMcacheFree},
		{i64(ms.GCSys), metadata.AttributeGoMemoryClassMetadataOther},
		{i64(ms.BuckHashSys), metadata.AttributeGoMemoryClassProfilingBuckets},
		{i64(ms.OtherSys), metadata.AttributeGoMemoryClassOther},
	} {
		mb.RecordGoMemoryClassUsedDataPoint(ts, c.v, c.class)
	}
	mb.RecordGoMemoryAllocatedDataPoint(ts, i64(ms.TotalAlloc))
	mb.RecordGoMemoryAllocationsDataPoint(ts, i64(ms.Mallocs))
	mb.RecordGoMemoryFreesDataPoint(ts, i64(ms.Frees))
	mb.RecordGoMemoryHeapObjectsDataPoint(ts, i64(ms.HeapObjects))
	mb.RecordGoMemoryGcGoalDataPoint(ts, i64(ms.NextGC))
	mb.RecordGoMemoryGcCyclesDataPoint(ts, int64(ms.NumGC))
	mb.RecordGoMemoryGcCyclesForcedDataPoint(ts, int64(ms.NumForcedGC))
	mb.RecordGoMemoryGcCyclePausesLostDataPoint(ts, i64(t.lost))

	start := t.start
	hist := t.hist
	extra := []func(pmetric.MetricSlice){func(out pmetric.MetricSlice) {
		hist.AppendTo(out, model.GCCyclePauseDuration, start, ts)
	}}
	if len(v.Numbers) > 0 {
		numbers := v.Numbers
		extra = append(extra, func(out pmetric.MetricSlice) { appendNumbers(out, numbers, ts) })
	}
	return extra
}

// appendNumbers appends the kept user variables as gauges named
// "expvar.<name>".
func appendNumbers(out pmetric.MetricSlice, numbers map[string]float64, ts pcommon.Timestamp) {
	names := make([]string, 0, len(numbers))
	for n := range numbers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := out.AppendEmpty()
		m.SetName("expvar." + n)
		m.SetDescription("A numeric variable the service publishes on /debug/vars.")
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetDoubleValue(numbers[n])
	}
}

// i64 converts a memstats counter, clamping values past int64.
func i64(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}
