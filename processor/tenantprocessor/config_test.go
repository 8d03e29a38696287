package tenantprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name    string
		want    *Config
		wantErr string
	}{
		{name: "", want: &Config{AttributeKey: "tenant", DefaultTenant: "default"}},
		{name: "custom", want: &Config{
			AttributeKey:  "org",
			DefaultTenant: "team-a",
			Namespace:     NamespaceConfig{Attributes: map[string]string{"env": "prod", "region": "eu-west-1"}},
		}},
		{name: "bad_tenant", wantErr: `"default_tenant": tenant ID "team a" has the character ' '`},
		{name: "empty_key", wantErr: `"attribute_key" must not be empty`},
		{name: "namespace_overwrites_tenant", wantErr: `"namespace::attributes" must not set "tenant", the tenant attribute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			cfg := createDefaultConfig()
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}
