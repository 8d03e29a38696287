package tenantprocessor // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/limits"
	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
)

// DefaultAttributeKey is the resource attribute that carries the tenant
// unless configured otherwise; the tsdb exporter reads the same default.
const DefaultAttributeKey = "tenant"

// NewFactory returns the factory of the tenant processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		AttributeKey:  DefaultAttributeKey,
		MetadataKey:   "X-Scope-OrgID",
		DefaultTenant: "default",
		Limits: LimitsConfig{
			MaxTenants:              1000,
			SeriesIdleTimeout:       10 * time.Minute,
			MaxSeriesPerTenant:      150_000,
			MaxSeriesPerMetric:      20_000,
			MaxAttributesPerSeries:  30,
			MaxAttributeNameLength:  1024,
			MaxAttributeValueLength: 2048,
		},
		LogInterval: time.Minute,
	}
}

func createMetrics(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	c := cfg.(*Config)
	return newTenantProcessor(c, set, trackerFor(set.ID, c.limitSettings()), next)
}

// trackers keeps each processor ID's series across config reloads: the
// collector builds new components on a reload, and a new processor of the
// same ID takes over the tracked series with its new limits. Every
// pipeline's instance of one processor ID shares its tracker, so a tenant's
// limits hold across pipelines.
var trackers = struct {
	sync.Mutex
	byID map[component.ID]*limits.Tracker
}{byID: map[component.ID]*limits.Tracker{}}

func trackerFor(id component.ID, s limits.Settings) *limits.Tracker {
	trackers.Lock()
	defer trackers.Unlock()
	if tr, ok := trackers.byID[id]; ok {
		tr.Update(s)
		return tr
	}
	tr := limits.NewTracker(s)
	trackers.byID[id] = tr
	return tr
}
