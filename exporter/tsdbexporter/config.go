package tsdbexporter // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config is the tsdb exporter's configuration.
type Config struct {
	exporterhelper.TimeoutConfig `mapstructure:",squash"`

	// Storage configures the embedded TSDB.
	Storage StorageConfig `mapstructure:"storage"`

	// TenantAttribute is the resource attribute that carries the tenant (set
	// by the tenant processor). It is always written as a label.
	TenantAttribute string `mapstructure:"tenant_attribute"`

	// PromoteResourceAttributes are further resource attributes written as
	// labels on every series. All resource attributes are in target_info.
	PromoteResourceAttributes []string `mapstructure:"promote_resource_attributes"`

	// API is the HTTP server of the Prometheus query API. An empty endpoint
	// turns the API off.
	API confighttp.ServerConfig `mapstructure:"api"`

	// Query bounds the work of one query.
	Query QueryConfig `mapstructure:"query"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// StorageConfig configures the embedded TSDB.
type StorageConfig struct {
	// Path is the data directory, created if missing.
	Path string `mapstructure:"path"`
	// Retention is how long samples are kept.
	Retention time.Duration `mapstructure:"retention"`
	// OutOfOrderWindow is how far behind a series' newest sample a sample
	// may arrive and still be stored; collector batching reorders samples.
	OutOfOrderWindow time.Duration `mapstructure:"out_of_order_window"`
}

// QueryConfig bounds queries, as Prometheus' query flags do.
type QueryConfig struct {
	// Timeout is the longest a query may run.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxSamples is the most samples one query may hold in memory.
	MaxSamples int `mapstructure:"max_samples"`
	// LookbackDelta is how far back an instant selector looks.
	LookbackDelta time.Duration `mapstructure:"lookback_delta"`
}

// Validate checks the configuration for values the exporter cannot run with.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Storage.Path == "" {
		errs = append(errs, errors.New(`"storage::path" must not be empty`))
	}
	if cfg.Storage.Retention <= 0 {
		errs = append(errs, fmt.Errorf(`"storage::retention" must be positive, got %s`, cfg.Storage.Retention))
	}
	if cfg.Storage.OutOfOrderWindow < 0 {
		errs = append(errs, fmt.Errorf(`"storage::out_of_order_window" must not be negative, got %s`, cfg.Storage.OutOfOrderWindow))
	}
	if cfg.TenantAttribute == "" {
		errs = append(errs, errors.New(`"tenant_attribute" must not be empty`))
	}
	if cfg.Query.Timeout <= 0 {
		errs = append(errs, fmt.Errorf(`"query::timeout" must be positive, got %s`, cfg.Query.Timeout))
	}
	if cfg.Query.MaxSamples <= 0 {
		errs = append(errs, fmt.Errorf(`"query::max_samples" must be positive, got %d`, cfg.Query.MaxSamples))
	}
	if cfg.Query.LookbackDelta <= 0 {
		errs = append(errs, fmt.Errorf(`"query::lookback_delta" must be positive, got %s`, cfg.Query.LookbackDelta))
	}
	return errors.Join(errs...)
}
