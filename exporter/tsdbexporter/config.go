package tsdbexporter // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter"

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alecthomas/units"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-goruntime/otelcol-goruntime/internal/tenantid"
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

	// Tenancy makes the query API serve one tenant per request.
	Tenancy TenancyConfig `mapstructure:"tenancy"`

	// EnableAdminAPI turns on POST /api/v1/admin/tsdb/snapshot.
	EnableAdminAPI bool `mapstructure:"enable_admin_api"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// StorageConfig configures the embedded TSDB.
type StorageConfig struct {
	// Path is the data directory, created if missing.
	Path string `mapstructure:"path"`
	// Retention is how long samples are kept.
	Retention time.Duration `mapstructure:"retention"`
	// RetentionSize bounds the bytes the store keeps on disk ("512MB",
	// "10GiB"; units are powers of 1024 as in Prometheus); 0 is no bound.
	RetentionSize units.Base2Bytes `mapstructure:"retention_size"`
	// OutOfOrderWindow is how far behind a series' newest sample a sample
	// may arrive and still be stored; collector batching reorders samples.
	OutOfOrderWindow time.Duration `mapstructure:"out_of_order_window"`
	// ClassicHistograms says how explicit-bucket histograms are stored:
	// "classic" (_bucket, _sum, _count series, readable by every Prometheus
	// client) or "native" (native histograms with custom buckets, one series
	// each). Exponential histograms are always native histograms.
	ClassicHistograms string `mapstructure:"classic_histograms"`
}

// TenancyConfig configures per-tenant isolation of the query API.
type TenancyConfig struct {
	// Enabled requires a tenant on every query API request and restricts
	// every selector to it.
	Enabled bool `mapstructure:"enabled"`
	// Header carries the tenant ID.
	Header string `mapstructure:"header"`
	// AuthAttribute, when set, takes the tenant from this attribute of the
	// identity the server's auth extension established, before the header.
	AuthAttribute string `mapstructure:"auth_attribute"`
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

const (
	classicHistogramsClassic = "classic"
	classicHistogramsNative  = "native"
)

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
	if cfg.Storage.RetentionSize < 0 {
		errs = append(errs, fmt.Errorf(`"storage::retention_size" must not be negative, got %d`, int64(cfg.Storage.RetentionSize)))
	}
	switch cfg.Storage.ClassicHistograms {
	case classicHistogramsClassic, classicHistogramsNative:
	default:
		errs = append(errs, fmt.Errorf(`"storage::classic_histograms" must be "classic" or "native", got %q`, cfg.Storage.ClassicHistograms))
	}
	if cfg.Tenancy.Enabled && cfg.Tenancy.Header == "" && cfg.Tenancy.AuthAttribute == "" {
		errs = append(errs, errors.New(`"tenancy" is enabled but neither "header" nor "auth_attribute" says where the tenant comes from`))
	}
	if cfg.Tenancy.Enabled && cfg.EnableAdminAPI {
		errs = append(errs, errors.New(`"enable_admin_api" cannot be combined with "tenancy": a snapshot holds every tenant's data`))
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

// tenantOf returns the tenant of a query API request: from the auth
// extension's identity when auth_attribute is set and the identity has it,
// else from the header. The ID must pass the tenant ID rules.
func (tc *TenancyConfig) tenantOf(r *http.Request) (string, error) {
	var tenant string
	if tc.AuthAttribute != "" {
		if auth := client.FromContext(r.Context()).Auth; auth != nil {
			if v, ok := auth.GetAttribute(tc.AuthAttribute).(string); ok {
				tenant = v
			}
		}
	}
	if tenant == "" && tc.Header != "" {
		vals := r.Header.Values(tc.Header)
		if len(vals) > 1 {
			return "", fmt.Errorf("the %s header names %d tenants; a request reads one", tc.Header, len(vals))
		}
		if len(vals) == 1 {
			tenant = vals[0]
		}
	}
	if tenant == "" {
		return "", fmt.Errorf("no tenant: send the %s header", tc.Header)
	}
	if err := tenantid.Validate(tenant); err != nil {
		return "", err
	}
	return tenant, nil
}
