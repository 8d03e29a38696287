package tenantprocessor // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor"

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/otelcol-goruntime/otelcol-goruntime/internal/tenantid"
	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/limits"
	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/tenancy"
)

// Config is the tenant processor's configuration.
type Config struct {
	// AttributeKey is the resource attribute the tenant is written to. Any
	// value a sender put there is overwritten.
	AttributeKey string `mapstructure:"attribute_key"`
	// MetadataKey is the request metadata key under which the tenant is put
	// into the context passed downstream (for the batch processor's
	// metadata_keys and exporters that send it as a header).
	MetadataKey string `mapstructure:"metadata_key"`
	// Sources are asked in order; the first that names a tenant decides.
	Sources []SourceConfig `mapstructure:"sources"`
	// DefaultTenant is the tenant of streams no source names; empty refuses
	// such streams (reason missing_tenant).
	DefaultTenant string `mapstructure:"default_tenant"`
	// Namespace labels are added to every data point.
	Namespace NamespaceConfig `mapstructure:"namespace"`
	// Limits bound the series of every tenant.
	Limits LimitsConfig `mapstructure:"limits"`
	// Tenants hold per-tenant settings that replace the defaults.
	Tenants map[string]TenantConfig `mapstructure:"tenants"`
	// DryRun counts what the limits would drop without dropping it.
	DryRun bool `mapstructure:"dry_run"`
	// LogInterval is the least time between two log lines about one
	// tenant's drops.
	LogInterval time.Duration `mapstructure:"log_interval"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// SourceConfig is one tenant source; exactly one field is set.
type SourceConfig struct {
	// Metadata is a request metadata key, such as X-Scope-OrgID (the
	// receiver needs include_metadata: true).
	Metadata string `mapstructure:"metadata"`
	// Attribute is a resource attribute whose value is the tenant.
	Attribute string `mapstructure:"attribute"`
	// Mapping maps a resource attribute's values to tenants.
	Mapping *MappingConfig `mapstructure:"mapping"`
}

// MappingConfig maps values of a resource attribute to tenants.
type MappingConfig struct {
	Attribute string            `mapstructure:"attribute"`
	Values    map[string]string `mapstructure:"values"`
}

// NamespaceConfig configures the labels added to every data point.
type NamespaceConfig struct {
	// Attributes are set on every data point, overwriting a value of the
	// same key the sender put there.
	Attributes map[string]string `mapstructure:"attributes"`
}

// LimitsConfig bounds series; 0 means unlimited.
type LimitsConfig struct {
	// MaxTenants bounds how many tenants are tracked at once.
	MaxTenants int `mapstructure:"max_tenants"`
	// SeriesIdleTimeout is how long a series keeps its slot without being
	// seen.
	SeriesIdleTimeout time.Duration `mapstructure:"series_idle_timeout"`
	// Per-tenant defaults.
	MaxSeriesPerTenant      int `mapstructure:"max_series_per_tenant"`
	MaxSeriesPerMetric      int `mapstructure:"max_series_per_metric"`
	MaxAttributesPerSeries  int `mapstructure:"max_attributes_per_series"`
	MaxAttributeNameLength  int `mapstructure:"max_attribute_name_length"`
	MaxAttributeValueLength int `mapstructure:"max_attribute_value_length"`
}

// TenantConfig overrides settings for one tenant; unset fields keep the
// defaults.
type TenantConfig struct {
	MaxSeriesPerTenant      *int `mapstructure:"max_series_per_tenant"`
	MaxSeriesPerMetric      *int `mapstructure:"max_series_per_metric"`
	MaxAttributesPerSeries  *int `mapstructure:"max_attributes_per_series"`
	MaxAttributeNameLength  *int `mapstructure:"max_attribute_name_length"`
	MaxAttributeValueLength *int `mapstructure:"max_attribute_value_length"`
	// MetricPrefix is put in front of every metric name of the tenant.
	MetricPrefix string `mapstructure:"metric_prefix"`
}

// Validate checks the configuration for values the processor cannot run with.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.AttributeKey == "" {
		errs = append(errs, errors.New(`"attribute_key" must not be empty`))
	}
	if cfg.MetadataKey == "" {
		errs = append(errs, errors.New(`"metadata_key" must not be empty`))
	}
	for i, s := range cfg.Sources {
		set := 0
		for _, b := range []bool{s.Metadata != "", s.Attribute != "", s.Mapping != nil} {
			if b {
				set++
			}
		}
		if set != 1 {
			errs = append(errs, fmt.Errorf(`"sources::%d" must set exactly one of "metadata", "attribute" and "mapping"`, i))
			continue
		}
		if s.Mapping != nil {
			if s.Mapping.Attribute == "" {
				errs = append(errs, fmt.Errorf(`"sources::%d::mapping::attribute" must not be empty`, i))
			}
			for _, v := range sortedKeys(s.Mapping.Values) {
				if err := tenantid.Validate(s.Mapping.Values[v]); err != nil {
					errs = append(errs, fmt.Errorf(`"sources::%d::mapping::values::%s": %w`, i, v, err))
				}
			}
		}
	}
	if cfg.DefaultTenant != "" {
		if err := tenantid.Validate(cfg.DefaultTenant); err != nil {
			errs = append(errs, fmt.Errorf(`"default_tenant": %w`, err))
		}
	} else if len(cfg.Sources) == 0 {
		errs = append(errs, errors.New(`"default_tenant" must be set when there are no "sources"`))
	}
	for _, k := range sortedKeys(cfg.Namespace.Attributes) {
		switch k {
		case "":
			errs = append(errs, errors.New(`"namespace::attributes" has an empty key`))
		case cfg.AttributeKey:
			errs = append(errs, fmt.Errorf(`"namespace::attributes" must not set %q, the tenant attribute`, k))
		}
	}
	l := cfg.Limits
	for _, f := range []struct {
		name string
		v    int
	}{
		{"max_tenants", l.MaxTenants},
		{"max_series_per_tenant", l.MaxSeriesPerTenant},
		{"max_series_per_metric", l.MaxSeriesPerMetric},
		{"max_attributes_per_series", l.MaxAttributesPerSeries},
		{"max_attribute_name_length", l.MaxAttributeNameLength},
		{"max_attribute_value_length", l.MaxAttributeValueLength},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf(`"limits::%s" must not be negative, got %d`, f.name, f.v))
		}
	}
	if l.SeriesIdleTimeout < time.Second {
		errs = append(errs, fmt.Errorf(`"limits::series_idle_timeout" must be at least 1s, got %s`, l.SeriesIdleTimeout))
	}
	for _, id := range sortedKeys(cfg.Tenants) {
		if err := tenantid.Validate(id); err != nil {
			errs = append(errs, fmt.Errorf(`"tenants::%s": %w`, id, err))
		}
		tc := cfg.Tenants[id]
		for _, p := range []*int{tc.MaxSeriesPerTenant, tc.MaxSeriesPerMetric, tc.MaxAttributesPerSeries, tc.MaxAttributeNameLength, tc.MaxAttributeValueLength} {
			if p != nil && *p < 0 {
				errs = append(errs, fmt.Errorf(`"tenants::%s": limits must not be negative, got %d`, id, *p))
				break
			}
		}
		if strings.ContainsAny(tc.MetricPrefix, " \t\n") {
			errs = append(errs, fmt.Errorf(`"tenants::%s::metric_prefix" %q must not contain white space`, id, tc.MetricPrefix))
		}
	}
	if cfg.LogInterval <= 0 {
		errs = append(errs, fmt.Errorf(`"log_interval" must be positive, got %s`, cfg.LogInterval))
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// resolver builds the tenant resolver the configuration describes.
func (cfg *Config) resolver() *tenancy.Resolver {
	r := &tenancy.Resolver{Default: cfg.DefaultTenant}
	for _, s := range cfg.Sources {
		switch {
		case s.Metadata != "":
			r.Sources = append(r.Sources, tenancy.Metadata(s.Metadata))
		case s.Attribute != "":
			r.Sources = append(r.Sources, tenancy.Attribute(s.Attribute))
		case s.Mapping != nil:
			r.Sources = append(r.Sources, tenancy.Mapping{Attribute: s.Mapping.Attribute, Values: s.Mapping.Values})
		}
	}
	return r
}

// limitSettings builds the tracker settings the configuration describes.
func (cfg *Config) limitSettings() limits.Settings {
	l := cfg.Limits
	def := limits.Limits{
		MaxSeriesPerTenant:      l.MaxSeriesPerTenant,
		MaxSeriesPerMetric:      l.MaxSeriesPerMetric,
		MaxAttributesPerSeries:  l.MaxAttributesPerSeries,
		MaxAttributeNameLength:  l.MaxAttributeNameLength,
		MaxAttributeValueLength: l.MaxAttributeValueLength,
	}
	s := limits.Settings{MaxTenants: l.MaxTenants, IdleTimeout: l.SeriesIdleTimeout, Default: def}
	for id, tc := range cfg.Tenants {
		o := def
		for _, f := range []struct {
			p   *int
			dst *int
		}{
			{tc.MaxSeriesPerTenant, &o.MaxSeriesPerTenant},
			{tc.MaxSeriesPerMetric, &o.MaxSeriesPerMetric},
			{tc.MaxAttributesPerSeries, &o.MaxAttributesPerSeries},
			{tc.MaxAttributeNameLength, &o.MaxAttributeNameLength},
			{tc.MaxAttributeValueLength, &o.MaxAttributeValueLength},
		} {
			if f.p != nil {
				*f.dst = *f.p
			}
		}
		if s.Overrides == nil {
			s.Overrides = map[string]limits.Limits{}
		}
		s.Overrides[id] = o
	}
	return s
}
