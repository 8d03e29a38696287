package tsdbexporter // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/metadata"
)

const (
	// DefaultAPIEndpoint is loopback on a port that clashes neither with
	// Prometheus (9090) nor with the collector's own telemetry (8888).
	DefaultAPIEndpoint = "127.0.0.1:9480"
	// defaultTenantAttribute matches the tenant processor's default.
	defaultTenantAttribute = "tenant"
	// defaultSubqueryStep is the step of a subquery that names none;
	// Prometheus uses its global evaluation interval, 1m by default.
	defaultSubqueryStep = time.Minute
)

// NewFactory returns the factory of the tsdb exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	api := confighttp.NewDefaultServerConfig()
	api.NetAddr.Endpoint = DefaultAPIEndpoint
	return &Config{
		TimeoutConfig: exporterhelper.NewDefaultTimeoutConfig(),
		Storage: StorageConfig{
			Path:              "data/tsdb",
			Retention:         15 * 24 * time.Hour,
			OutOfOrderWindow:  10 * time.Minute,
			ClassicHistograms: classicHistogramsClassic,
		},
		Tenancy: TenancyConfig{Header: "X-Scope-OrgID"},
		RemoteWrite: RemoteWriteConfig{
			HTTP:             remoteClientDefaults(),
			TenantHeader:     "X-Scope-OrgID",
			Shards:           4,
			NativeHistograms: true,
			StaleAfter:       5 * time.Minute,
			Protocol:         "1.0",
		},
		QueueConfig:     configoptional.Default(remoteQueueDefaults()),
		BackOffConfig:   configretry.NewDefaultBackOffConfig(),
		TenantAttribute: defaultTenantAttribute,
		API:             api,
		// Prometheus' defaults for its query flags.
		Query: QueryConfig{
			Timeout:       2 * time.Minute,
			MaxSamples:    50_000_000,
			LookbackDelta: 5 * time.Minute,
		},
	}
}

func remoteClientDefaults() confighttp.ClientConfig {
	c := confighttp.NewDefaultClientConfig()
	c.Timeout = 30 * time.Second
	return c
}

// remoteQueueDefaults is the sending queue for remote write: one consumer,
// so batches keep their order; parallelism comes from remote_write.shards.
func remoteQueueDefaults() exporterhelper.QueueBatchConfig {
	q := exporterhelper.NewDefaultQueueConfig()
	q.NumConsumers = 1
	return q
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	c := cfg.(*Config)
	e, err := newTSDBExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg, e.pushMetrics,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.BackOffConfig),
		// Remote write sends a large batch in slices by moving its
		// resources out and back (restored before it returns), so it must
		// own the batch: a pipeline that shares one batch with other
		// exporters gives this one its own copy.
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: c.remote()}),
	)
}
