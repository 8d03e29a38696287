package tenantprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/limits"
	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
)

func intp(v int) *int { return &v }

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig().(*Config)
	custom.AttributeKey = "org"
	custom.MetadataKey = "X-Tenant"
	custom.Sources = []SourceConfig{
		{Metadata: "X-Scope-OrgID"},
		{Attribute: "service.namespace"},
		{Mapping: &MappingConfig{Attribute: "k8s.namespace.name", Values: map[string]string{"payments": "team-pay"}}},
	}
	custom.DefaultTenant = "team-a"
	custom.Namespace.Attributes = map[string]string{"env": "prod"}
	custom.Limits = LimitsConfig{
		MaxTenants: 10, SeriesIdleTimeout: 5 * time.Minute, MaxSeriesPerTenant: 1000, MaxSeriesPerMetric: 100,
		MaxAttributesPerSeries: 10, MaxAttributeNameLength: 64, MaxAttributeValueLength: 128,
	}
	custom.Tenants = map[string]TenantConfig{"team-a": {MaxSeriesPerTenant: intp(5000), MetricPrefix: "a_"}}
	custom.DryRun = true
	custom.LogInterval = 30 * time.Second

	tests := []struct {
		name    string
		want    *Config
		wantErr []string
	}{
		{name: "", want: createDefaultConfig().(*Config)},
		{name: "custom", want: custom},
		{name: "bad_tenant", wantErr: []string{`"default_tenant": tenant ID "team a" has the character ' '`}},
		{name: "empty_keys", wantErr: []string{`"attribute_key" must not be empty`, `"metadata_key" must not be empty`}},
		{name: "namespace_overwrites_tenant", wantErr: []string{`"namespace::attributes" must not set "tenant", the tenant attribute`}},
		{name: "bad_sources", wantErr: []string{
			`"sources::0" must set exactly one of "metadata", "attribute" and "mapping"`,
			`"sources::1" must set exactly one of`,
			`"sources::2::mapping::attribute" must not be empty`,
			`"sources::2::mapping::values::x": tenant ID "not valid" has the character ' '`,
		}},
		{name: "no_tenant_at_all", wantErr: []string{`"default_tenant" must be set when there are no "sources"`}},
		{name: "bad_limits", wantErr: []string{
			`"limits::max_series_per_tenant" must not be negative, got -1`,
			`"limits::series_idle_timeout" must be at least 1s, got 100ms`,
			`"tenants::bad id": tenant ID "bad id" has the character ' '`,
			`"tenants::bad id": limits must not be negative, got -5`,
			`"log_interval" must be positive, got 0s`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			cfg := createDefaultConfig()
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != nil {
				for _, want := range tt.wantErr {
					assert.ErrorContains(t, err, want)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestLimitSettingsMergeOverrides(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Limits.MaxSeriesPerMetric = 7
	cfg.Tenants = map[string]TenantConfig{"big": {MaxSeriesPerTenant: intp(1_000_000)}}
	s := cfg.limitSettings()
	assert.Equal(t, 150_000, s.Default.MaxSeriesPerTenant)
	assert.Equal(t, limits.Limits{
		MaxSeriesPerTenant: 1_000_000, MaxSeriesPerMetric: 7, MaxAttributesPerSeries: 30,
		MaxAttributeNameLength: 1024, MaxAttributeValueLength: 2048,
	}, s.Overrides["big"], "an override replaces only the limits it sets")
}
