package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"errors"
	"fmt"
	"net"
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

	// Discovery finds the Go processes on the host and scrapes them.
	Discovery DiscoveryConfig `mapstructure:"discovery"`

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
	// Compression is what the target is asked for: gzip, none, or auto
	// (none on loopback, gzip elsewhere).
	Compression string `mapstructure:"compression"`
	// Expvar configures the /debug/vars source.
	Expvar ExpvarConfig `mapstructure:"expvar"`
	// Prometheus configures the /metrics source.
	Prometheus PrometheusConfig `mapstructure:"prometheus"`
	// Goroutines configures the /debug/pprof/goroutine source.
	Goroutines GoroutinesConfig `mapstructure:"goroutines"`
}

// DiscoveryConfig configures host discovery.
type DiscoveryConfig struct {
	// Enabled turns host discovery on.
	Enabled bool `mapstructure:"enabled"`
	// Interval is the time between two scans of the host.
	Interval time.Duration `mapstructure:"interval"`
	// ProcPath is the host's /proc; in a container, where the host's /proc
	// is mounted.
	ProcPath string `mapstructure:"proc_path"`
	// HostName is the host.name of discovered processes; empty means the
	// host's name.
	HostName string `mapstructure:"host_name"`
	// ServiceNameFrom says where a discovered process's service.name comes
	// from: module (the main module path's last element), package (the
	// main package's) or executable (the executable's file name).
	ServiceNameFrom string `mapstructure:"service_name_from"`
	// Include keeps only the processes matching every kind of rule it
	// has, and probes only the ports it lists.
	Include DiscoveryFilter `mapstructure:"include"`
	// Exclude drops the processes matching any of its rules, and never
	// probes the ports it lists.
	Exclude DiscoveryFilter `mapstructure:"exclude"`
	// Probe bounds the probing of ports.
	Probe ProbeConfig `mapstructure:"probe"`
	// Timeout bounds each scrape of a discovered endpoint.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxResponseSize bounds every response body of a discovered endpoint.
	MaxResponseSize int64 `mapstructure:"max_response_size"`
	// Compression is what discovered endpoints are asked for: gzip, none,
	// or auto (none on loopback, gzip elsewhere).
	Compression string `mapstructure:"compression"`
	// Goroutines configures the goroutine dumps of discovered endpoints.
	Goroutines GoroutinesConfig `mapstructure:"goroutines"`
}

// Values of DiscoveryConfig.ServiceNameFrom.
const (
	serviceNameFromModule     = "module"
	serviceNameFromPackage    = "package"
	serviceNameFromExecutable = "executable"
)

// DiscoveryFilter matches discovered processes and ports. Patterns are
// anchored regular expressions.
type DiscoveryFilter struct {
	// Executables match the executable's file name.
	Executables []string `mapstructure:"executables"`
	// Modules match the main module's path.
	Modules []string `mapstructure:"modules"`
	// Users match the owner's user name or numeric ID.
	Users []string `mapstructure:"users"`
	// Ports are TCP port numbers.
	Ports []int `mapstructure:"ports"`
}

// ProbeConfig bounds port probing.
type ProbeConfig struct {
	// Timeout bounds each probe request.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxPortsPerProcess is the most ports probed on one process.
	MaxPortsPerProcess int `mapstructure:"max_ports_per_process"`
	// MaxPerScan is the most ports probed in one scan; the rest wait for
	// the next.
	MaxPerScan int `mapstructure:"max_per_scan"`
	// Concurrency is how many ports are probed at once.
	Concurrency int `mapstructure:"concurrency"`
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
	if !conf.IsSet("discovery::goroutines::interval") {
		cfg.Discovery.Goroutines.Interval = max(time.Minute, cfg.CollectionInterval)
	}
	return nil
}

// Validate checks the configuration for values the receiver cannot run with.
func (cfg *Config) Validate() error {
	var errs []error
	if !cfg.Self.Enabled && len(cfg.Targets) == 0 && !cfg.Discovery.Enabled {
		errs = append(errs, errors.New(`no source is enabled: set "self::enabled: true", "discovery::enabled: true" or add "targets"`))
	}
	if cfg.Discovery.Enabled {
		errs = append(errs, cfg.Discovery.validate(cfg.CollectionInterval)...)
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
		if !validCompression(t.Compression) {
			errs = append(errs, fmt.Errorf(`"targets::%d::compression" must be "auto", "gzip" or "none", got %q`, i, t.Compression))
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

func (d *DiscoveryConfig) validate(collection time.Duration) []error {
	var errs []error
	if d.Interval <= 0 {
		errs = append(errs, fmt.Errorf(`"discovery::interval" must be positive, got %s`, d.Interval))
	}
	if !slices.Contains([]string{serviceNameFromModule, serviceNameFromPackage, serviceNameFromExecutable}, d.ServiceNameFrom) {
		errs = append(errs, fmt.Errorf(`"discovery::service_name_from" must be "module", "package" or "executable", got %q`, d.ServiceNameFrom))
	}
	if d.ProcPath == "" {
		errs = append(errs, errors.New(`"discovery::proc_path" must not be empty`))
	}
	for kind, f := range map[string]DiscoveryFilter{"include": d.Include, "exclude": d.Exclude} {
		for field, patterns := range map[string][]string{"executables": f.Executables, "modules": f.Modules, "users": f.Users} {
			for _, p := range patterns {
				if _, err := regexp.Compile(p); err != nil {
					errs = append(errs, fmt.Errorf(`"discovery::%s::%s" %q: %w`, kind, field, p, err))
				}
			}
		}
		for _, p := range f.Ports {
			if p < 1 || p > 65535 {
				errs = append(errs, fmt.Errorf(`"discovery::%s::ports": %d is not a TCP port`, kind, p))
			}
		}
	}
	if d.Probe.Timeout <= 0 || d.Probe.MaxPortsPerProcess <= 0 || d.Probe.MaxPerScan <= 0 || d.Probe.Concurrency <= 0 {
		errs = append(errs, errors.New(`"discovery::probe": "timeout", "max_ports_per_process", "max_per_scan" and "concurrency" must be positive`))
	}
	if !validCompression(d.Compression) {
		errs = append(errs, fmt.Errorf(`"discovery::compression" must be "auto", "gzip" or "none", got %q`, d.Compression))
	}
	if d.Timeout <= 0 || d.MaxResponseSize <= 0 {
		errs = append(errs, errors.New(`"discovery": "timeout" and "max_response_size" must be positive`))
	}
	if d.Goroutines.Interval < collection {
		errs = append(errs, fmt.Errorf(`"discovery::goroutines::interval" %s is shorter than "collection_interval" %s`, d.Goroutines.Interval, collection))
	}
	if d.Goroutines.MaxDumpSize <= 0 || d.Goroutines.TopCreators <= 0 {
		errs = append(errs, errors.New(`"discovery::goroutines": "max_dump_size" and "top_creators" must be positive`))
	}
	return errs
}

func validCompression(c string) bool { return c == "" || c == "auto" || c == "gzip" || c == "none" }

// uncompressed resolves a compression setting for a host: auto (or unset)
// asks loopback targets for uncompressed responses, where decompressing
// costs more than the bytes it saves.
func uncompressed(compression, host string) bool {
	switch compression {
	case "none":
		return true
	case "gzip":
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
