package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper/scrapererror"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/selfsource"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"
)

// goRuntimeScraper runs every enabled source once per collection interval and
// merges what they return, one resource per scraped process.
type goRuntimeScraper struct {
	cfg     *Config
	set     receiver.Settings
	self    *selfsource.Source
	targets []*target.Target
	jobs    []chan scrapeJob // one per target but the last, read by its worker
	running bool             // between start and shutdown
	workers sync.WaitGroup
	disc    *hostDiscovery
	now     func() time.Time
}

func newGoRuntimeScraper(cfg *Config, set receiver.Settings) *goRuntimeScraper {
	return &goRuntimeScraper{cfg: cfg, set: set, now: time.Now}
}

func (s *goRuntimeScraper) start(ctx context.Context, host component.Host) error {
	if s.cfg.Self.Enabled {
		s.self = selfsource.New(s.cfg.MetricsBuilderConfig, s.set, selfsource.OwnIdentity(s.serviceName(), s.instanceID()))
	}
	clientTelemetry := s.set.TelemetrySettings
	if !httpInstrumentationKept(ctx, clientTelemetry) {
		// confighttp wraps the client in otelhttp only with a tracer
		// provider. Left out, each request saves otelhttp's work (a tenth
		// of an expvar scrape) whose output nothing would keep.
		clientTelemetry.TracerProvider = nil
	}
	for i, tc := range s.cfg.Targets {
		// HTTP clients are built here, not in the factory, so that auth
		// extensions resolve.
		client, err := tc.HTTP.ToClient(ctx, host.GetExtensions(), clientTelemetry)
		if err != nil {
			return fmt.Errorf("target %d (%s): %w", i, tc.Endpoint, err)
		}
		timeout := client.Timeout
		client.Timeout = 0 // applied per request by the target
		u, err := url.Parse(tc.Endpoint)
		if err != nil {
			return fmt.Errorf("target %d: %w", i, err)
		}
		s.targets = append(s.targets, target.New(target.Settings{
			Endpoint:           u,
			Name:               targetName(tc),
			ResourceAttributes: tc.ResourceAttributes,
			Sources:            tc.Sources,
			MaxResponseSize:    tc.MaxResponseSize,
			Uncompressed:       uncompressed(tc.Compression, u.Hostname()),
			ExpvarInclude:      anchored(tc.Expvar.Include),
			PrometheusInclude:  anchored(tc.Prometheus.Include),
			GoroutineInterval:  tc.Goroutines.Interval,
			MaxDumpSize:        tc.Goroutines.MaxDumpSize,
			TopCreators:        tc.Goroutines.TopCreators,
			Timeout:            timeout,
		}, client, s.cfg.MetricsBuilderConfig, s.set))
	}
	s.startWorkers()
	if s.cfg.Discovery.Enabled {
		d, err := newHostDiscovery(s.cfg.Discovery, s.cfg.Targets, s.cfg.MetricsBuilderConfig, s.set)
		if err != nil {
			return err
		}
		s.disc = d
		d.start()
	}
	return nil
}

// scrape reads every source; targets are read concurrently, so a slow one
// delays none of the others, and each one's failure is reported as part of
// a partial scrape error while everything else is delivered.
func (s *goRuntimeScraper) scrape(ctx context.Context) (pmetric.Metrics, error) {
	now := s.now()
	md := pmetric.NewMetrics()
	if !s.running {
		return md, errors.New("targets scraped before start or after shutdown")
	}
	if s.self != nil {
		s.self.Scrape(now).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	}
	results := make([]pmetric.Metrics, len(s.targets))
	errs := make([]error, len(s.targets))
	var wg sync.WaitGroup
	wg.Add(len(s.jobs))
	for i, jobs := range s.jobs {
		jobs <- scrapeJob{ctx: ctx, now: now, md: &results[i], err: &errs[i], done: &wg}
	}
	var discovered pmetric.Metrics
	var discErrs []error
	if s.disc != nil {
		wg.Go(func() { discovered, discErrs = s.disc.scrape(ctx, now) })
	}
	if last := len(s.targets) - 1; last >= 0 {
		results[last], errs[last] = s.targets[last].Scrape(ctx, now)
	}
	wg.Wait()
	failed := 0
	for i := range s.targets {
		results[i].ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
		if errs[i] != nil {
			failed++
		}
	}
	if s.disc != nil {
		discovered.ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
		failed += len(discErrs)
		errs = append(errs, discErrs...)
	}
	if err := errors.Join(errs...); err != nil {
		return md, scrapererror.NewPartialScrapeError(err, failed)
	}
	return md, nil
}

// anchored compiles patterns (validated in Config.Validate) to match whole
// names.
func anchored(patterns []string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		out = append(out, regexp.MustCompile("^(?:"+p+")$"))
	}
	return out
}

func (s *goRuntimeScraper) shutdown(context.Context) error {
	for _, jobs := range s.jobs {
		close(jobs)
	}
	s.workers.Wait()
	s.jobs, s.running = nil, false
	if s.disc != nil {
		s.disc.shutdown()
	}
	return nil
}

// scrapeJob asks a target's worker for one scrape.
type scrapeJob struct {
	ctx  context.Context
	now  time.Time
	md   *pmetric.Metrics
	err  *error
	done *sync.WaitGroup
}

// startWorkers gives each target but the last a goroutine of its own for
// as long as the receiver runs; the last is scraped in the scraping
// goroutine, which would otherwise only wait (with a single target, handing
// it to a worker and back was two goroutine wake-ups per scrape). A
// goroutine started per scrape would grow its stack again every time (HTTP
// client, parsers), which costs a twentieth of a scrape; targets stay
// independent, so a slow one still delays no other.
func (s *goRuntimeScraper) startWorkers() {
	s.running = true
	s.jobs = make([]chan scrapeJob, max(len(s.targets)-1, 0))
	for i, t := range s.targets[:len(s.jobs)] {
		jobs := make(chan scrapeJob, 1) // a scrape waits for the last one: never full
		s.jobs[i] = jobs
		s.workers.Go(func() {
			for j := range jobs {
				*j.md, *j.err = t.Scrape(j.ctx, j.now)
				j.done.Done()
			}
		})
	}
}

// serviceName is the configured name of the collector's own resource, or the
// collector's command name.
func (s *goRuntimeScraper) serviceName() string {
	if s.cfg.Self.ServiceName != "" {
		return s.cfg.Self.ServiceName
	}
	if s.set.BuildInfo.Command != "" {
		return s.set.BuildInfo.Command
	}
	return "otelcol-goruntime"
}

// instanceID reuses the collector's own service.instance.id, so the receiver's
// data and the collector's telemetry name the same instance.
func (s *goRuntimeScraper) instanceID() string {
	if v, ok := s.set.Resource.Attributes().Get("service.instance.id"); ok {
		return v.AsString()
	}
	return ""
}
