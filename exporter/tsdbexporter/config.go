package tsdbexporter // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter"

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/alecthomas/units"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
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

	// RemoteWrite, when its endpoint is set, makes this exporter send to a
	// remote-write endpoint instead of the embedded store.
	RemoteWrite RemoteWriteConfig `mapstructure:"remote_write"`

	// QueueConfig is the standard sending queue, off unless configured; with
	// a storage extension it survives restarts.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// BackOffConfig is the standard retry with exponential backoff.
	BackOffConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

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

// RemoteWriteConfig configures remote write (Prometheus remote write 1.0).
type RemoteWriteConfig struct {
	// HTTP is the client: endpoint (the full write URL, such as
	// http://mimir:9009/api/v1/push), timeout, TLS, headers, auth.
	HTTP confighttp.ClientConfig `mapstructure:"http"`
	// TenantHeader carries each request's tenant; empty sends none.
	TenantHeader string `mapstructure:"tenant_header"`
	// Shards is how many requests a tenant's batch is split into and sent at
	// once; a series always goes in the same one.
	Shards int `mapstructure:"shards"`
	// NativeHistograms sends native histograms (exponential OTLP
	// histograms); turn it off for endpoints that do not take them.
	NativeHistograms bool `mapstructure:"native_histograms"`
	// Protocol is "1.0" or "2.0" (io.prometheus.write.v2.Request, falling
	// back to 1.0 for good where the endpoint does not read it).
	Protocol string `mapstructure:"protocol"`
	// StaleAfter is how far a series' last sample may fall behind the
	// newest sample sent (and at least two of its own intervals) before the
	// series is ended with a staleness marker, placed one interval after its
	// last sample; 0 sends no markers.
	StaleAfter time.Duration `mapstructure:"stale_after"`
}

// remote reports whether the exporter writes to a remote endpoint.
func (cfg *Config) remote() bool { return cfg.RemoteWrite.HTTP.Endpoint != "" }

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
	if cfg.remote() {
		if u, err := url.Parse(cfg.RemoteWrite.HTTP.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf(`"remote_write::http::endpoint" %q must be an http:// or https:// URL with a host`, cfg.RemoteWrite.HTTP.Endpoint))
		}
		if p := cfg.RemoteWrite.Protocol; p != "1.0" && p != "2.0" {
			errs = append(errs, fmt.Errorf(`"remote_write::protocol" must be "1.0" or "2.0", got %q`, p))
		}
		if cfg.RemoteWrite.StaleAfter < 0 {
			errs = append(errs, fmt.Errorf(`"remote_write::stale_after" must not be negative, got %s`, cfg.RemoteWrite.StaleAfter))
		}
		if cfg.RemoteWrite.Shards < 1 {
			errs = append(errs, fmt.Errorf(`"remote_write::shards" must be at least 1, got %d`, cfg.RemoteWrite.Shards))
		}
		if q := cfg.QueueConfig.Get(); q != nil && cfg.QueueConfig.HasValue() && q.NumConsumers > 1 {
			errs = append(errs, fmt.Errorf(`"sending_queue::num_consumers" is %d: with remote write it must be 1, or batches could overtake each other and a series' samples arrive out of order; raise "remote_write::shards" for parallel requests`, q.NumConsumers))
		}
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
