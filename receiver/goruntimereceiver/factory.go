package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

// defaultCollectionInterval matches a typical Prometheus scrape interval.
const defaultCollectionInterval = 15 * time.Second

// NewFactory returns the factory of the go_runtime receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = defaultCollectionInterval
	return &Config{
		ControllerConfig:     cc,
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		Self:                 SelfConfig{Enabled: true},
		Discovery: DiscoveryConfig{
			Interval:        defaultDiscoveryInterval,
			ProcPath:        "/proc",
			ServiceNameFrom: serviceNameFromModule,
			Probe: ProbeConfig{
				Timeout:            defaultProbeTimeout,
				MaxPortsPerProcess: 16,
				MaxPerScan:         64,
				Concurrency:        4,
			},
			Timeout:         defaultTargetTimeout,
			MaxResponseSize: defaultMaxResponseSize,
			Goroutines: GoroutinesConfig{
				Interval:    time.Minute,
				MaxDumpSize: defaultMaxDumpSize,
				TopCreators: defaultTopCreators,
			},
		},
	}
}

// Per-target defaults, applied to every target the user lists.
const (
	defaultTargetTimeout   = 5 * time.Second
	defaultMaxResponseSize = 16 << 20
	defaultMaxDumpSize     = 8 << 20
	defaultTopCreators     = 10

	defaultDiscoveryInterval = 30 * time.Second
	defaultProbeTimeout      = 2 * time.Second
)

// withTargetDefaults fills the unset settings of each target.
func withTargetDefaults(cfg *Config) {
	for i := range cfg.Targets {
		t := &cfg.Targets[i]
		if t.HTTP.Timeout == 0 {
			t.HTTP.Timeout = defaultTargetTimeout
		}
		if t.MaxResponseSize == 0 {
			t.MaxResponseSize = defaultMaxResponseSize
		}
		if t.Goroutines.Interval == 0 {
			t.Goroutines.Interval = max(time.Minute, cfg.CollectionInterval)
		}
		if t.Goroutines.MaxDumpSize == 0 {
			t.Goroutines.MaxDumpSize = defaultMaxDumpSize
		}
		if t.Goroutines.TopCreators == 0 {
			t.Goroutines.TopCreators = defaultTopCreators
		}
	}
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	s := newGoRuntimeScraper(c, set)
	sc, err := scraper.NewMetrics(s.scrape, scraper.WithStart(s.start), scraper.WithShutdown(s.shutdown))
	if err != nil {
		return nil, err
	}
	return scraperhelper.NewMetricsController(&c.ControllerConfig, set, next,
		scraperhelper.AddMetricsScraper(metadata.Type, sc))
}
