// Package target scrapes one Go service over HTTP and maps what it serves
// to the receiver's metric model. A target's failure shows in its own
// go.scrape.up and never blocks or breaks another target.
package target // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/expvar"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/goroutines"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/model"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/promtext"
)

// Source names.
const (
	SourceExpvar     = "expvar"
	SourcePrometheus = "prometheus"
	SourceGoroutines = "goroutines"
)

// Settings configure one target.
type Settings struct {
	// Endpoint is the service's base URL, such as http://127.0.0.1:6060.
	Endpoint *url.URL
	// Name is the target's service.name.
	Name string
	// ResourceAttributes are added to the target's resource.
	ResourceAttributes map[string]string
	// Sources to read; nil reads every source.
	Sources []string
	// MaxResponseSize bounds every response body.
	MaxResponseSize int64
	// Uncompressed asks for uncompressed responses (Accept-Encoding:
	// identity): on loopback, decompressing costs more CPU than the bytes
	// saved are worth, and the target is spared compressing.
	Uncompressed bool
	// ExpvarInclude keeps the numeric /debug/vars variables whose name
	// matches one of them.
	ExpvarInclude []*regexp.Regexp
	// PrometheusInclude keeps /metrics families the model does not know
	// whose name matches one of them.
	PrometheusInclude []*regexp.Regexp
	// GoroutineInterval is the least time between two goroutine dumps
	// (each stops the target's world for its whole length).
	GoroutineInterval time.Duration
	// MaxDumpSize caps a debug=2 dump; a larger one is read as debug=1.
	MaxDumpSize int64
	// TopCreators is how many creating functions are counted by name; the
	// rest are counted as "other".
	TopCreators int
	// Timeout bounds each request, body included (0: no bound). It is
	// applied through the request's context rather than http.Client's
	// Timeout, which costs a goroutine and a timer per request when the
	// transport is wrapped.
	Timeout time.Duration
}

// Target scrapes one service. It is not safe for concurrent use: the
// receiver scrapes each target from one goroutine at a time.
type Target struct {
	s      Settings
	client *http.Client
	mb     *metadata.MetricsBuilder
	reqs   map[string]*http.Request // by path, see request

	// resource is built in New and again only when the Go version changes.
	resource          pcommon.Resource
	resourceGoVersion string

	// start is when the current cumulative series of this target began:
	// the process's start time where /metrics says it, else the first
	// scrape, or the scrape that saw the process restart.
	start     pcommon.Timestamp
	procStart float64
	pauses    expvar.PauseTracker
	// expvarParser's buffers serve every scrape of this target; what it
	// returns is used up before the next scrape.
	expvarParser expvar.Parser
	promReader   promtext.Reader
	includeMemo  map[string]bool // see included
	buf          []expvar.Pause
	hist         model.ExpHistogram
	lost         uint64

	// With no sources configured, the target's sources are detected:
	// active holds those that answered, and detect asks every source again
	// on the next scrape (at first, after a restart, and when an active
	// source stops answering).
	active map[string]bool
	detect bool
	// lastDump is when the goroutines were last dumped.
	lastDump time.Time
}

// SourceAttribute is each source's go.scrape.source value.
var SourceAttribute = map[string]metadata.AttributeGoScrapeSource{
	SourcePrometheus: metadata.AttributeGoScrapeSourcePrometheus,
	SourceExpvar:     metadata.AttributeGoScrapeSourceExpvar,
	SourceGoroutines: metadata.AttributeGoScrapeSourceGoroutines,
}

// allSources lists every source built, in precedence order.
var allSources = []string{SourcePrometheus, SourceExpvar, SourceGoroutines}

// New returns a target scraped with client.
func New(s Settings, client *http.Client, cfg metadata.MetricsBuilderConfig, set receiver.Settings) *Target {
	t := &Target{s: s, client: client, mb: metadata.NewMetricsBuilder(cfg, set), active: map[string]bool{}, detect: true}
	t.resource = t.buildResource("")
	t.promReader.Keep = t.keepFamily
	return t
}

// keepFamily says which /metrics families a protobuf answer's decoding
// keeps: those the model reads and those include keeps. client_golang with
// every runtime metric serves about 150 families; the model reads about
// 40 of them.
func (t *Target) keepFamily(name, help string) bool {
	if modelFamilies[name] || t.included(name) {
		return true
	}
	src, ok := promtext.FamilySource(name, help)
	return ok && modelSources[src]
}

// toRead returns the sources to read this scrape, in precedence order.
func (t *Target) toRead() []string {
	if len(t.s.Sources) > 0 {
		return slices.DeleteFunc(slices.Clone(allSources), func(s string) bool { return !slices.Contains(t.s.Sources, s) })
	}
	if t.detect || len(t.ActiveSources()) == 0 {
		return allSources
	}
	return slices.DeleteFunc(slices.Clone(allSources), func(s string) bool { return !t.active[s] })
}

// ActiveSources lists the sources the target answered on, for tests and
// telemetry.
func (t *Target) ActiveSources() []string {
	var out []string
	for _, s := range allSources {
		if t.active[s] {
			out = append(out, s)
		}
	}
	return out
}

// restart starts new cumulative series at start.
func (t *Target) restart(start pcommon.Timestamp) {
	t.start = start
	t.mb.Reset(metadata.WithStartTime(start))
	t.hist.Reset()
	t.lost = 0
	t.detect = true
}

// buildResource returns the target's resource: its identity and the Go
// version its last scrape gave.
func (t *Target) buildResource(goVersion string) pcommon.Resource {
	rb := t.mb.NewResourceBuilder()
	rb.SetServiceName(t.s.Name)
	// host:port, which Prometheus' OTLP translation turns into instance.
	rb.SetServiceInstanceID(t.s.Endpoint.Host)
	rb.SetURLFull(t.s.Endpoint.String())
	rb.SetServerAddress(t.s.Endpoint.Hostname())
	rb.SetProcessRuntimeName("go")
	if goVersion != "" {
		rb.SetProcessRuntimeVersion(goVersion)
	}
	res := rb.Emit()
	keys := make([]string, 0, len(t.s.ResourceAttributes))
	for k := range t.s.ResourceAttributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		res.Attributes().PutStr(k, t.s.ResourceAttributes[k])
	}
	return res
}

// Scrape reads the target's sources and returns its metrics, with
// go.scrape.up and go.scrape.duration for each source even when it failed,
// and the errors of failed sources. Where two sources give the same model
// metric, /metrics wins (it names the runtime/metrics key it read) and
// /debug/vars fills in the rest.
func (t *Target) Scrape(ctx context.Context, now time.Time) (pmetric.Metrics, error) {
	defer t.promReader.Release() // what was read is in the pdata by then
	ts := pcommon.NewTimestampFromTime(now)
	if t.start == 0 {
		t.restart(ts)
	}
	var extra []func(pmetric.MetricSlice)
	var recorded model.MetricSet
	var fams *promtext.Families // valid until the deferred Release
	goVersion := ""
	type result struct {
		source string
		took   float64
		err    error
	}
	var results []result
	detecting := len(t.s.Sources) == 0 && (t.detect || len(t.ActiveSources()) == 0)
	sources := t.toRead()
	expvarToo, expvarRead := slices.Contains(sources, SourceExpvar), false
	t.detect = false
	for _, src := range sources {
		began := time.Now()
		var err error
		switch src {
		case SourcePrometheus:
			if fams, err = t.fetchPrometheus(ctx); err == nil {
				goVersion = fams.GoVersion
				recorded, extra = t.recordPrometheus(fams, ts, extra, expvarToo)
			} else {
				fams = nil
			}
		case SourceExpvar:
			var vars *expvar.Vars
			if vars, err = t.fetchExpvar(ctx); err == nil {
				extra = t.recordExpvar(vars, ts, recorded, extra)
				expvarRead = true
			}
		case SourceGoroutines:
			if !t.active[SourceGoroutines] {
				// Detection asks the cheap pprof index before a dump.
				err = t.probePprof(ctx)
			}
			if err == nil {
				if now.Sub(t.lastDump) < t.s.GoroutineInterval {
					continue // not due: the last dump's counts stand
				}
				var sum *goroutines.Summary
				if sum, err = t.fetchGoroutines(ctx); err == nil {
					t.lastDump = now
					t.recordGoroutines(sum, ts, recorded)
				}
			}
		}
		results = append(results, result{src, time.Since(began).Seconds(), err})
	}
	if expvarToo && !expvarRead && fams != nil {
		// /debug/vars was to give the GC cycles and did not answer.
		if v, ok := fams.Int("/gc/cycles/total:gc-cycles"); ok {
			t.mb.RecordGoMemoryGcCyclesDataPoint(ts, v)
		}
	}
	answered := slices.ContainsFunc(results, func(r result) bool { return r.err == nil })
	var errs []error
	for _, r := range results {
		wasActive := t.active[r.source]
		t.active[r.source] = r.err == nil
		if r.err != nil {
			if wasActive {
				// It answered before: the target answers differently now.
				t.detect = true
			} else if detecting && answered {
				// Detection: this target does not offer the source.
				continue
			}
			errs = append(errs, fmt.Errorf("target %q: %s: %w", t.s.Name, sourcePath[r.source], r.err))
		}
		attr := SourceAttribute[r.source]
		up := int64(0)
		if r.err == nil {
			up = 1
		}
		t.mb.RecordGoScrapeUpDataPoint(ts, up, attr)
		t.mb.RecordGoScrapeDurationDataPoint(ts, r.took, attr)
	}

	if goVersion != t.resourceGoVersion {
		t.resource, t.resourceGoVersion = t.buildResource(goVersion), goVersion
	}
	md := t.mb.Emit(metadata.WithResource(t.resource)) // copied into md
	if len(extra) > 0 && md.ResourceMetrics().Len() > 0 {
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for _, f := range extra {
			f(ms)
		}
	}
	return md, errors.Join(errs...)
}

var sourcePath = map[string]string{
	SourcePrometheus: "/metrics",
	SourceExpvar:     "/debug/vars",
	SourceGoroutines: "/debug/pprof/goroutine",
}

// request returns the request for path, built once: each scrape sends a
// shallow copy with its own context. The copies share the header map,
// which net/http and round trippers only read (RoundTripper's contract).
func (t *Target) request(path, accept string) (*http.Request, error) {
	if r, ok := t.reqs[path]; ok {
		return r, nil
	}
	p, query, _ := strings.Cut(path, "?")
	u := t.s.Endpoint.JoinPath(p)
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery = query
	r, err := http.NewRequest(http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Accept", accept)
	if t.s.Uncompressed {
		// Set by hand, so the transport does not decompress for us.
		r.Header.Set("Accept-Encoding", "identity")
	}
	if t.reqs == nil {
		t.reqs = map[string]*http.Request{}
	}
	t.reqs[path] = r
	return r, nil
}

// get fetches path and checks the status; the caller closes the body,
// which also ends the request's deadline.
func (t *Target) get(ctx context.Context, path, accept string) (resp *http.Response, err error) {
	if t.s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.s.Timeout)
		defer func() {
			if err != nil {
				cancel()
				return
			}
			resp.Body = cancelBody{resp.Body, cancel}
		}()
	}
	tmpl, err := t.request(path, accept)
	if err != nil {
		return nil, err
	}
	resp, err = t.client.Do(tmpl.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		drain(resp)
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	if t.s.Uncompressed && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		// A target that compresses anyway.
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			drain(resp)
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		resp.Body = gzipBody{zr, resp.Body}
	}
	return resp, nil
}

// cancelBody ends a request's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// gzipBody reads a gzip body and closes the connection's body.
type gzipBody struct {
	*gzip.Reader
	body io.ReadCloser
}

func (g gzipBody) Close() error { return g.body.Close() }

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
}

// fetchPrometheus gets and parses /metrics.
// acceptMetrics asks for the delimited protobuf exposition first, as
// Prometheus does: client_golang serves it on request, it holds the same
// families as the text format, and decoding it costs a fraction of parsing
// text. Targets that only speak text answer with text.
const acceptMetrics = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9," +
	"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

func (t *Target) fetchPrometheus(ctx context.Context) (*promtext.Families, error) {
	resp, err := t.get(ctx, "/metrics", acceptMetrics)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	return t.promReader.Parse(resp.Body, resp.Header.Get("Content-Type"), t.s.MaxResponseSize)
}

// recordPrometheus maps /metrics to the model and returns what it recorded.
//
// When /debug/vars is read too, the GC cycle count is left to it: it comes
// from the same memstats read as the per-cycle pause histogram, so the two
// agree exactly (a GC between the two requests would otherwise put them one
// apart). Scrape records the count /metrics gave if /debug/vars fails.
func (t *Target) recordPrometheus(f *promtext.Families, ts pcommon.Timestamp, extra []func(pmetric.MetricSlice), expvarToo bool) (model.MetricSet, []func(pmetric.MetricSlice)) {
	if mf, ok := f.Family("process_start_time_seconds"); ok {
		if st, ok := promtext.Scalar(mf); ok && st > 0 && st != t.procStart {
			// The process's own start time starts its series; a new one
			// means the process restarted.
			t.procStart = st
			t.restart(pcommon.Timestamp(st * 1e9))
		}
	}
	var skip model.MetricSet
	if expvarToo {
		skip = skip.With("go.memory.gc.cycles")
	}
	recorded := model.RecordRuntime(t.mb, ts, f, skip)
	scalar := func(name string) (float64, bool) {
		mf, ok := f.Family(name)
		if !ok {
			return 0, false
		}
		return promtext.Scalar(mf)
	}
	if v, ok := scalar("process_cpu_seconds_total"); ok {
		t.mb.RecordProcessCPUTimeDataPoint(ts, v)
	}
	if v, ok := scalar("process_resident_memory_bytes"); ok {
		t.mb.RecordProcessMemoryUsageDataPoint(ts, int64(v))
	}
	if v, ok := scalar("process_virtual_memory_bytes"); ok {
		t.mb.RecordProcessMemoryVirtualDataPoint(ts, int64(v))
	}
	if v, ok := scalar("process_open_fds"); ok {
		t.mb.RecordProcessUnixFileDescriptorCountDataPoint(ts, int64(v))
	}
	start := t.start
	extra = append(extra, func(ms pmetric.MetricSlice) {
		model.AppendRuntimeHistograms(ms, f, start, ts)
	})
	if len(t.s.PrometheusInclude) > 0 {
		extra = append(extra, func(ms pmetric.MetricSlice) { passThrough(ms, f, t.included, start, ts) })
	}
	return recorded, extra
}

// probePprof checks that the target serves /debug/pprof/.
func (t *Target) probePprof(ctx context.Context) error {
	resp, err := t.get(ctx, "/debug/pprof/", "text/html")
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

// fetchGoroutines reads a debug=2 dump, or a debug=1 dump when the full one
// is over the cap.
func (t *Target) fetchGoroutines(ctx context.Context) (*goroutines.Summary, error) {
	resp, err := t.get(ctx, "/debug/pprof/goroutine?debug=2", "text/plain")
	if err != nil {
		return nil, err
	}
	sum, err := goroutines.ParseDebug2(resp.Body, t.s.MaxDumpSize)
	drain(resp)
	if !errors.Is(err, goroutines.ErrTooLarge) {
		return sum, err
	}
	resp, err = t.get(ctx, "/debug/pprof/goroutine?debug=1", "text/plain")
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	return goroutines.ParseDebug1(resp.Body, t.s.MaxDumpSize)
}

// recordGoroutines maps a dump to the model.
func (t *Target) recordGoroutines(s *goroutines.Summary, ts pcommon.Timestamp, recorded model.MetricSet) {
	mb := t.mb
	if !recorded.Has("go.goroutine.count") {
		mb.RecordGoGoroutineCountDataPoint(ts, int64(s.Total))
	}
	grouped := int64(0)
	if s.Grouped {
		grouped = 1
	}
	mb.RecordGoGoroutineDumpGroupedDataPoint(ts, grouped)
	top, rest := goroutines.Top(s.ByCreator, t.s.TopCreators)
	for _, kv := range top {
		mb.RecordGoGoroutineCreatorCountDataPoint(ts, int64(kv.Count), kv.Key)
	}
	if rest > 0 {
		mb.RecordGoGoroutineCreatorCountDataPoint(ts, int64(rest), "other")
	}
	if s.Grouped {
		return // a grouped dump has no statuses, ages or leak marks
	}
	statuses := make([]string, 0, len(s.ByStatus))
	for st := range s.ByStatus {
		statuses = append(statuses, st)
	}
	sort.Strings(statuses)
	for _, st := range statuses {
		mb.RecordGoGoroutineStatusCountDataPoint(ts, int64(s.ByStatus[st]), st)
	}
	for age, attr := range []metadata.AttributeGoGoroutineWaitAge{
		metadata.AttributeGoGoroutineWaitAgeUnder1m,
		metadata.AttributeGoGoroutineWaitAgeFrom1mTo5m,
		metadata.AttributeGoGoroutineWaitAgeFrom5mTo30m,
		metadata.AttributeGoGoroutineWaitAgeFrom30mTo2h,
		metadata.AttributeGoGoroutineWaitAgeOver2h,
	} {
		mb.RecordGoGoroutineBlockedCountDataPoint(ts, int64(s.ByWaitAge[age]), attr)
	}
	mb.RecordGoGoroutineLeakedCountDataPoint(ts, int64(s.Leaked))
}

// fetchExpvar gets and parses /debug/vars.
func (t *Target) fetchExpvar(ctx context.Context) (*expvar.Vars, error) {
	resp, err := t.get(ctx, "/debug/vars", "application/json")
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	var include func(string) bool
	if len(t.s.ExpvarInclude) > 0 {
		include = t.expvarInclude
	}
	vars, err := t.expvarParser.Parse(resp.Body, t.s.MaxResponseSize, include)
	if err != nil {
		return nil, err
	}
	if vars.MemStats == nil {
		return nil, fmt.Errorf("no memstats in the answer")
	}
	return vars, nil
}

// expvarInclude says whether a user variable matches an include pattern.
func (t *Target) expvarInclude(name string) bool {
	for _, re := range t.s.ExpvarInclude {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// recordExpvar maps memstats to the model, leaving out what another source
// recorded, and adds the hand-built metrics to append after the generated
// ones.
func (t *Target) recordExpvar(v *expvar.Vars, ts pcommon.Timestamp, recorded model.MetricSet, extra []func(pmetric.MetricSlice)) []func(pmetric.MetricSlice) {
	ms := v.MemStats
	u := t.pauses.Update(ms, t.buf)
	t.buf = u.Pauses[:0]
	if u.Restarted && t.procStart == 0 {
		// A new process: its counters start a new series. (With /metrics,
		// the process start time has already said so.)
		t.restart(ts)
	}
	for _, p := range u.Pauses {
		t.hist.Observe(p.Duration.Seconds())
	}
	t.lost += u.Lost

	mb := t.mb
	if !recorded.Has("go.memory.used") {
		mb.RecordGoMemoryUsedDataPoint(ts, i64(ms.StackInuse), metadata.AttributeGoMemoryTypeStack)
		mb.RecordGoMemoryUsedDataPoint(ts, i64(ms.Sys)-i64(ms.HeapReleased)-i64(ms.StackInuse), metadata.AttributeGoMemoryTypeOther)
	}
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
		if !recorded.Has("go.memory.class.used") {
			mb.RecordGoMemoryClassUsedDataPoint(ts, c.v, c.class)
		}
	}
	for _, r := range []struct {
		metric string
		v      int64
		fn     func(pcommon.Timestamp, int64)
	}{
		{"go.memory.allocated", i64(ms.TotalAlloc), mb.RecordGoMemoryAllocatedDataPoint},
		{"go.memory.allocations", i64(ms.Mallocs), mb.RecordGoMemoryAllocationsDataPoint},
		{"go.memory.frees", i64(ms.Frees), mb.RecordGoMemoryFreesDataPoint},
		{"go.memory.heap.objects", i64(ms.HeapObjects), mb.RecordGoMemoryHeapObjectsDataPoint},
		{"go.memory.gc.goal", i64(ms.NextGC), mb.RecordGoMemoryGcGoalDataPoint},
		{"go.memory.gc.cycles", int64(ms.NumGC), mb.RecordGoMemoryGcCyclesDataPoint},
		{"go.memory.gc.cycles.forced", int64(ms.NumForcedGC), mb.RecordGoMemoryGcCyclesForcedDataPoint},
	} {
		if !recorded.Has(r.metric) {
			r.fn(ts, r.v)
		}
	}
	mb.RecordGoMemoryGcCyclePausesLostDataPoint(ts, i64(t.lost))

	start := t.start
	hist := t.hist
	extra = append(extra, func(out pmetric.MetricSlice) {
		hist.AppendTo(out, model.GCCyclePauseDuration, start, ts)
	})
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
