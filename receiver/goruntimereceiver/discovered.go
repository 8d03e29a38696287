package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/discovery"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/procfs"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"
)

// hostDiscovery scans the host in the background and keeps, for each Go
// process it found, the targets of its endpoints and what was last sent
// for it, so that its series can be ended when it exits.
type hostDiscovery struct {
	cfg    DiscoveryConfig
	mbc    metadata.MetricsBuilderConfig
	set    receiver.Settings
	d      *discovery.Discoverer
	fs     *procfs.FS // read by scrapes; the Discoverer has its own
	host   string
	client *http.Client
	// static are the addresses of the configured targets: a discovered
	// endpoint at one of them is left to its target, not scraped twice.
	static map[netip.AddrPort]bool

	mu     sync.Mutex
	latest []discovery.Process
	gone   []discovery.Key
	warned bool // the permission warning is logged once

	procs map[discovery.Key]*discoveredProcess

	stop chan struct{}
	done chan struct{}
}

// discoveredProcess is the scrape state of one discovered process.
type discoveredProcess struct {
	proc    discovery.Process
	mb      *metadata.MetricsBuilder
	targets map[string]*target.Target // by endpoint address and sources
	last    pmetric.ResourceMetrics   // what was sent last, to mark stale
}

func newHostDiscovery(cfg DiscoveryConfig, targets []TargetConfig, mbc metadata.MetricsBuilderConfig, set receiver.Settings) (*hostDiscovery, error) {
	rx := anchored
	ports := func(ps []int) []uint16 {
		out := make([]uint16, 0, len(ps))
		for _, p := range ps {
			out = append(out, uint16(p)) //nolint:gosec // validated to 1..65535
		}
		return out
	}
	filter := func(f DiscoveryFilter) discovery.Filter {
		return discovery.Filter{Executables: rx(f.Executables), Modules: rx(f.Modules), Users: rx(f.Users), Ports: ports(f.Ports)}
	}
	prober := discovery.NewHTTPProber(cfg.Probe.Timeout)
	d, err := discovery.New(discovery.Settings{
		ProcRoot:           cfg.ProcPath,
		Include:            filter(cfg.Include),
		Exclude:            filter(cfg.Exclude),
		MaxPortsPerProcess: cfg.Probe.MaxPortsPerProcess,
		MaxProbesPerPass:   cfg.Probe.MaxPerScan,
		ProbeConcurrency:   cfg.Probe.Concurrency,
		Probe:              prober.Probe,
	})
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	host := cfg.HostName
	if host == "" {
		host, _ = os.Hostname()
	}
	return &hostDiscovery{
		cfg: cfg, mbc: mbc, set: set, d: d, fs: procfs.New(cfg.ProcPath), host: host,
		client: &http.Client{
			Timeout:       cfg.Timeout,
			Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 2 * cfg.Interval},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		static: staticAddrs(targets),
		procs:  map[discovery.Key]*discoveredProcess{},
		stop:   make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// staticAddrs lists the loopback and literal addresses of the configured
// targets ("localhost" as both loopbacks).
func staticAddrs(targets []TargetConfig) map[netip.AddrPort]bool {
	out := map[netip.AddrPort]bool{}
	for _, t := range targets {
		u, err := url.Parse(t.Endpoint)
		if err != nil {
			continue
		}
		port, err := strconv.ParseUint(u.Port(), 10, 16)
		if err != nil {
			if port = 80; u.Scheme == "https" {
				port = 443
			}
		}
		hosts := []string{u.Hostname()}
		if u.Hostname() == "localhost" {
			hosts = []string{"127.0.0.1", "::1"}
		}
		for _, h := range hosts {
			if a, err := netip.ParseAddr(h); err == nil {
				out[netip.AddrPortFrom(a.Unmap(), uint16(port))] = true
			}
		}
	}
	return out
}

// start scans at once and then every interval, in the background: a scan
// that waits on slow ports never holds up the collector's start or a
// scrape.
func (h *hostDiscovery) start() {
	go func() {
		defer close(h.done)
		h.scan()
		t := time.NewTicker(h.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.scan()
			}
		}
	}()
}

func (h *hostDiscovery) shutdown() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
		<-h.done
	}
}

func (h *hostDiscovery) scan() {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Interval)
	defer cancel()
	began := time.Now()
	res, err := h.d.Pass(ctx)
	if err != nil {
		h.set.Logger.Error("Host discovery cannot list processes", zap.String("proc_path", h.cfg.ProcPath), zap.Error(err))
		return
	}
	h.set.Logger.Debug("Host discovery scan",
		zap.Int("processes", res.Scanned), zap.Int("go_processes", len(res.Processes)),
		zap.Int("probed_ports", res.Probed), zap.Duration("took", time.Since(began)))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = res.Processes
	h.gone = append(h.gone, res.Gone...)
	if res.Denied > 0 && !h.warned {
		h.warned = true
		h.set.Logger.Warn("Host discovery cannot inspect some processes for want of permission; "+
			"they are reported with what could be read, or not at all when their executable cannot be read. "+
			"Run the collector as root or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to see every process",
			zap.Int("processes", res.Denied), zap.Int("uid", os.Getuid()))
	}
}

// scrape returns one resource per discovered process, and a last, stale
// point for every series of a process that exited.
func (h *hostDiscovery) scrape(ctx context.Context, now time.Time) (pmetric.Metrics, []error) {
	ts := pcommon.NewTimestampFromTime(now)
	h.mu.Lock()
	latest, gone := h.latest, h.gone
	h.gone = nil
	h.mu.Unlock()

	md := pmetric.NewMetrics()
	for _, k := range gone {
		h.end(k, ts, md)
	}
	type scraped struct {
		dp    *discoveredProcess
		usage discovery.Usage
		res   []pmetric.Metrics
		errs  []error
	}
	var work []*scraped
	for _, p := range latest {
		u, alive := discovery.ReadUsage(h.fs, p.Key)
		if !alive {
			// Exited since the last scan.
			h.end(p.Key, ts, md)
			continue
		}
		dp, ok := h.procs[p.Key]
		if !ok {
			dp = &discoveredProcess{
				mb:      metadata.NewMetricsBuilder(h.mbc, h.set, metadata.WithStartTime(pcommon.NewTimestampFromTime(p.StartTime))),
				targets: map[string]*target.Target{},
			}
			h.procs[p.Key] = dp
		}
		dp.proc = p
		work = append(work, &scraped{dp: dp, usage: u})
	}
	var wg sync.WaitGroup
	for _, w := range work {
		for _, t := range h.targetsOf(w.dp) {
			i := len(w.res)
			w.res = append(w.res, pmetric.Metrics{})
			w.errs = append(w.errs, nil)
			wg.Go(func() { w.res[i], w.errs[i] = t.Scrape(ctx, now) })
		}
	}
	wg.Wait()
	var errs []error
	for _, w := range work {
		rm := h.record(w.dp, w.usage, ts, w.res)
		rm.MoveTo(md.ResourceMetrics().AppendEmpty())
		for _, err := range w.errs {
			if err != nil {
				errs = append(errs, fmt.Errorf("discovered process %d (%s): %w", w.dp.proc.PID, w.dp.proc.ExeName, err))
			}
		}
	}
	return md, errs
}

// targetsOf keeps one target per endpoint of the process, made when the
// endpoint is first found.
func (h *hostDiscovery) targetsOf(dp *discoveredProcess) []*target.Target {
	want := map[string]bool{}
	var out []*target.Target
	for _, ep := range dp.proc.Endpoints {
		if h.static[ep.Addr] {
			continue // a configured target reads it
		}
		id := ep.Addr.String() + " " + strings.Join(ep.Sources, ",")
		want[id] = true
		t, ok := dp.targets[id]
		if !ok {
			t = target.New(target.Settings{
				Endpoint:          &url.URL{Scheme: "http", Host: ep.Addr.String()},
				Name:              serviceName(dp.proc, h.cfg.ServiceNameFrom),
				Sources:           ep.Sources,
				MaxResponseSize:   h.cfg.MaxResponseSize,
				Uncompressed:      uncompressed(h.cfg.Compression, ep.Addr.Addr().String()),
				GoroutineInterval: h.cfg.Goroutines.Interval,
				MaxDumpSize:       h.cfg.Goroutines.MaxDumpSize,
				TopCreators:       h.cfg.Goroutines.TopCreators,
			}, h.client, h.mbc, h.set)
			dp.targets[id] = t
		}
		out = append(out, t)
	}
	for id := range dp.targets {
		if !want[id] {
			delete(dp.targets, id)
		}
	}
	return out
}

// record builds the process's resource: its identity, its use of the host
// from /proc, which sources were found, and what its endpoints gave, less
// the process.* metrics /proc already gave.
func (h *hostDiscovery) record(dp *discoveredProcess, u discovery.Usage, ts pcommon.Timestamp, fromTargets []pmetric.Metrics) pmetric.ResourceMetrics {
	p, mb := dp.proc, dp.mb
	mb.RecordProcessCPUTimeDataPoint(ts, u.CPUSeconds)
	mb.RecordProcessMemoryUsageDataPoint(ts, u.RSS)
	mb.RecordProcessMemoryVirtualDataPoint(ts, u.VSize)
	mb.RecordProcessThreadCountDataPoint(ts, u.Threads)
	if u.FDsOK {
		mb.RecordProcessUnixFileDescriptorCountDataPoint(ts, u.FDs)
	}
	for src, attr := range target.SourceAttribute {
		found := int64(0)
		if slices.ContainsFunc(p.Endpoints, func(ep discovery.Endpoint) bool { return slices.Contains(ep.Sources, src) }) {
			found = 1
		}
		mb.RecordGoDiscoverySourceDataPoint(ts, found, attr)
	}

	rb := mb.NewResourceBuilder()
	rb.SetServiceName(serviceName(p, h.cfg.ServiceNameFrom))
	if v := p.Build.ModuleVersion; v != "" && v != "(devel)" {
		rb.SetServiceVersion(v)
	}
	rb.SetServiceInstanceID(h.host + ":" + strconv.Itoa(p.PID))
	rb.SetHostName(h.host)
	rb.SetProcessPid(int64(p.PID))
	rb.SetProcessExecutableName(p.ExeName)
	rb.SetProcessExecutablePath(p.Exe)
	if p.Owner != "" {
		rb.SetProcessOwner(p.Owner)
	}
	rb.SetProcessRuntimeName("go")
	rb.SetProcessRuntimeVersion(p.Build.GoVersion)
	if p.Build.ModulePath != "" {
		rb.SetGoModulePath(p.Build.ModulePath)
	}
	setIf := func(set func(string), v string) {
		if v != "" {
			set(v)
		}
	}
	setIf(rb.SetVcsRefHeadRevision, p.Build.VCSRevision)
	setIf(rb.SetGoBuildVcsTime, p.Build.VCSTime)
	setIf(rb.SetGoBuildVcsModified, p.Build.VCSModified)
	setIf(rb.SetGoBuildExperiment, p.Build.Experiment)
	if len(p.Endpoints) > 0 {
		u := url.URL{Scheme: "http", Host: p.Endpoints[0].Addr.String()}
		rb.SetURLFull(u.String())
		rb.SetServerAddress(p.Endpoints[0].Addr.Addr().String())
	}
	md := mb.Emit(metadata.WithResource(rb.Emit()))
	rm := md.ResourceMetrics().At(0)
	ms := rm.ScopeMetrics().At(0).Metrics()
	fromProc := map[string]bool{}
	for i := range ms.Len() {
		fromProc[ms.At(i).Name()] = true
	}
	for _, tm := range fromTargets {
		for i := range tm.ResourceMetrics().Len() {
			sms := tm.ResourceMetrics().At(i).ScopeMetrics()
			for j := range sms.Len() {
				tms := sms.At(j).Metrics()
				tms.RemoveIf(func(m pmetric.Metric) bool { return fromProc[m.Name()] })
				tms.MoveAndAppendTo(ms)
			}
		}
	}
	dp.last = pmetric.NewResourceMetrics()
	rm.CopyTo(dp.last)
	return rm
}

// end forgets a process that exited and appends a stale point for each of
// the series last sent for it, so that stores end them now rather than
// after their lookback.
func (h *hostDiscovery) end(k discovery.Key, ts pcommon.Timestamp, md pmetric.Metrics) {
	dp, ok := h.procs[k]
	if !ok {
		return
	}
	delete(h.procs, k)
	if dp.last == (pmetric.ResourceMetrics{}) {
		return
	}
	rm := md.ResourceMetrics().AppendEmpty()
	dp.last.MoveTo(rm)
	markStale(rm, ts)
}

// markStale flags every point of rm as having no recorded value at ts.
func markStale(rm pmetric.ResourceMetrics, ts pcommon.Timestamp) {
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			switch m := ms.At(j); m.Type() {
			case pmetric.MetricTypeGauge:
				stalePoints(m.Gauge().DataPoints(), ts)
			case pmetric.MetricTypeSum:
				stalePoints(m.Sum().DataPoints(), ts)
			case pmetric.MetricTypeHistogram:
				stalePoints(m.Histogram().DataPoints(), ts)
			case pmetric.MetricTypeExponentialHistogram:
				stalePoints(m.ExponentialHistogram().DataPoints(), ts)
			case pmetric.MetricTypeSummary:
				stalePoints(m.Summary().DataPoints(), ts)
			}
		}
	}
}

// stalePoints flags every point of a data point slice of any type.
func stalePoints[P interface {
	SetFlags(pmetric.DataPointFlags)
	SetTimestamp(pcommon.Timestamp)
}, S interface {
	Len() int
	At(int) P
}](dps S, ts pcommon.Timestamp) {
	flags := pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)
	for k := range dps.Len() {
		dps.At(k).SetFlags(flags)
		dps.At(k).SetTimestamp(ts)
	}
}

// serviceName names a discovered process: by default the last element of
// its main module's path (binaries of one module share it and differ in
// process.executable.name), or of its main package's path, or its
// executable's name; a binary built from files has only the last.
func serviceName(p discovery.Process, from string) string {
	mp := p.Build.ModulePath
	switch from {
	case serviceNameFromExecutable:
		mp = ""
	case serviceNameFromPackage:
		mp = p.Build.PackagePath
	}
	if mp == "" || mp == "command-line-arguments" {
		return p.ExeName
	}
	// A major-version suffix (example.com/app/v2) is not the name.
	base := path.Base(mp)
	if len(base) > 1 && base[0] == 'v' && isDigits(base[1:]) && path.Dir(mp) != "." {
		base = path.Base(path.Dir(mp))
	}
	return base
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
