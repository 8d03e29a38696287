package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"
)

// Config is the go_runtime receiver's configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	metadata.MetricsBuilderConfig  `mapstructure:",squash"`

	// Self reads the Go runtime of the collector's own process.
	Self SelfConfig `mapstructure:"self"`

	// Targets are Go services scraped over HTTP.
	Targets []TargetConfig `mapstructure:"targets"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// SelfConfig configures the self source.
type SelfConfig struct {
	// Enabled turns the self source on.
	Enabled bool `mapstructure:"enabled"`
	// ServiceName is the service.name of the collector's own resource; empty
	// means the collector's command name.
	ServiceName string `mapstructure:"service_name"`
}

// TargetConfig is one Go service to scrape.
type TargetConfig struct {
	// Endpoint is the service's base URL, such as http://127.0.0.1:6060.
	Endpoint string `mapstructure:"endpoint"`
	// Name is the target's service.name; default the endpoint's host:port.
	Name string `mapstructure:"name"`
	// ResourceAttributes are added to the target's resource.
	ResourceAttributes map[string]string `mapstructure:"resource_attributes"`
	// Sources to read: expvar, prometheus; empty reads every source built.
	Sources []string `mapstructure:"sources"`
	// HTTP is the client used for the target: timeout, TLS, headers, auth.
	HTTP confighttp.ClientConfig `mapstructure:"http"`
	// MaxResponseSize bounds every response body, in bytes.
	MaxResponseSize int64 `mapstructure:"max_response_size"`
	// Expvar configures the /debug/vars source.
	Expvar ExpvarConfig `mapstructure:"expvar"`
	// Prometheus configures the /metrics source.
	Prometheus PrometheusConfig `mapstructure:"prometheus"`
	// Goroutines configures the /debug/pprof/goroutine source.
	Goroutines GoroutinesConfig `mapstructure:"goroutines"`
}

// GoroutinesConfig configures goroutine dumps.
type GoroutinesConfig struct {
	// Interval is the least time between two dumps of a target; a dump
	// stops the target's world for its whole length.
	Interval time.Duration `mapstructure:"interval"`
	// MaxDumpSize caps a full (debug=2) dump in bytes; a larger one is read
	// grouped (debug=1) instead.
	MaxDumpSize int64 `mapstructure:"max_dump_size"`
	// TopCreators is how many creating functions are counted by name.
	TopCreators int `mapstructure:"top_creators"`
}

// PrometheusConfig configures the /metrics source.
type PrometheusConfig struct {
	// Include lists regular expressions (anchored) of the families the
	// model does not know that are passed on under their own names; none by
	// default.
	Include []string `mapstructure:"include"`
}

// ExpvarConfig configures the /debug/vars source.
type ExpvarConfig struct {
	// Include lists regular expressions (anchored) of the numeric user
	// variables to export as expvar.<name>; none by default.
	Include []string `mapstructure:"include"`
}

// Sources a target can have; only those in builtSources are built.
var builtSources = []string{target.SourceExpvar, target.SourceGoroutines, target.SourcePrometheus}

// Unmarshal decodes the configuration and fills the unset settings of
// each target with their defaults (list entries get no defaults from
// createDefaultConfig).
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if err := conf.Unmarshal(cfg); err != nil {
		return err
	}
	withTargetDefaults(cfg)
	return nil
}

// Validate checks the configuration for values the receiver cannot run with.
func (cfg *Config) Validate() error {
	var errs []error
	if !cfg.Self.Enabled && len(cfg.Targets) == 0 {
		errs = append(errs, errors.New(`no source is enabled: set "self::enabled: true" or add "targets"`))
	}
	names := map[string]int{}
	for i, t := range cfg.Targets {
		u, err := url.Parse(t.Endpoint)
		switch {
		case t.Endpoint == "":
			errs = append(errs, fmt.Errorf(`"targets::%d::endpoint" must not be empty`, i))
		case err != nil:
			errs = append(errs, fmt.Errorf(`"targets::%d::endpoint" %q: %w`, i, t.Endpoint, err))
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			errs = append(errs, fmt.Errorf(`"targets::%d::endpoint" %q must be an http:// or https:// URL with a host`, i, t.Endpoint))
		}
		name := targetName(t)
		if j, dup := names[name]; dup {
			errs = append(errs, fmt.Errorf(`"targets::%d" and "targets::%d" are both named %q; give one a "name"`, j, i, name))
		}
		names[name] = i
		for _, s := range t.Sources {
			if !slices.Contains(builtSources, s) {
				errs = append(errs, fmt.Errorf(`"targets::%d::sources": unknown source %q; known: %v`, i, s, builtSources))
			}
		}
		if t.Goroutines.Interval < cfg.CollectionInterval {
			errs = append(errs, fmt.Errorf(`"targets::%d::goroutines::interval" %s is shorter than "collection_interval" %s`, i, t.Goroutines.Interval, cfg.CollectionInterval))
		}
		if t.Goroutines.MaxDumpSize <= 0 || t.Goroutines.TopCreators <= 0 {
			errs = append(errs, fmt.Errorf(`"targets::%d::goroutines": "max_dump_size" and "top_creators" must be positive`, i))
		}
		if t.MaxResponseSize <= 0 {
			errs = append(errs, fmt.Errorf(`"targets::%d::max_response_size" must be positive, got %d`, i, t.MaxResponseSize))
		}
		for _, p := range t.Expvar.Include {
			if _, err := regexp.Compile(p); err != nil {
				errs = append(errs, fmt.Errorf(`"targets::%d::expvar::include" %q: %w`, i, p, err))
			}
		}
		for _, p := range t.Prometheus.Include {
			if _, err := regexp.Compile(p); err != nil {
				errs = append(errs, fmt.Errorf(`"targets::%d::prometheus::include" %q: %w`, i, p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// targetName is the target's service.name: its name, or the endpoint's
// host:port.
func targetName(t TargetConfig) string {
	if t.Name != "" {
		return t.Name
	}
	if u, err := url.Parse(t.Endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return t.Endpoint
}
