package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/selfsource"
)

// goRuntimeScraper runs every enabled source once per collection interval and
// merges what they return, one resource per scraped process.
type goRuntimeScraper struct {
	cfg  *Config
	set  receiver.Settings
	self *selfsource.Source
	now  func() time.Time
}

func newGoRuntimeScraper(cfg *Config, set receiver.Settings) *goRuntimeScraper {
	return &goRuntimeScraper{cfg: cfg, set: set, now: time.Now}
}

func (s *goRuntimeScraper) start(context.Context, component.Host) error {
	if s.cfg.Self.Enabled {
		s.self = selfsource.New(s.cfg.MetricsBuilderConfig, s.set, selfsource.OwnIdentity(s.serviceName(), s.instanceID()))
	}
	return nil
}

func (s *goRuntimeScraper) scrape(context.Context) (pmetric.Metrics, error) {
	md := pmetric.NewMetrics()
	if s.self != nil {
		s.self.Scrape(s.now()).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	}
	return md, nil
}

func (*goRuntimeScraper) shutdown(context.Context) error { return nil }

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
