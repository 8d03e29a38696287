package tsdbexporter

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig().(*Config)
	custom.Timeout = 10 * time.Second
	custom.Storage = StorageConfig{
		Path: "/var/lib/otelcol-goruntime/tsdb", Retention: 720 * time.Hour, RetentionSize: 10 << 30,
		OutOfOrderWindow: 30 * time.Minute, ClassicHistograms: "native",
	}
	custom.Tenancy = TenancyConfig{Enabled: true, Header: "X-Tenant", AuthAttribute: "subject"}
	custom.TenantAttribute = "org"
	custom.PromoteResourceAttributes = []string{"service.namespace", "k8s.cluster.name"}
	custom.API.NetAddr.Endpoint = "0.0.0.0:9999"
	custom.Query = QueryConfig{Timeout: 30 * time.Second, MaxSamples: 1000, LookbackDelta: time.Minute}

	tests := []struct {
		name    string
		want    *Config
		wantErr []string
	}{
		{name: "", want: createDefaultConfig().(*Config)},
		{name: "custom", want: custom},
		{name: "no_path", wantErr: []string{`"storage::path" must not be empty`}},
		{name: "bad_values", wantErr: []string{
			`"storage::retention" must be positive, got 0s`,
			`"storage::out_of_order_window" must not be negative, got -1m0s`,
			`"tenant_attribute" must not be empty`,
			`"query::timeout" must be positive, got 0s`,
			`"query::max_samples" must be positive, got 0`,
			`"query::lookback_delta" must be positive, got 0s`,
			`"storage::classic_histograms" must be "classic" or "native", got "sparse"`,
			`"tenancy" is enabled but neither "header" nor "auth_attribute" says where the tenant comes from`,
			`"enable_admin_api" cannot be combined with "tenancy"`,
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

func TestRemoteWriteConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "remote").String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.True(t, cfg.remote())
	assert.Equal(t, "http://mimir:9009/api/v1/push", cfg.RemoteWrite.HTTP.Endpoint)
	assert.Equal(t, 10*time.Second, cfg.RemoteWrite.HTTP.Timeout)
	assert.Equal(t, "X-Org", cfg.RemoteWrite.TenantHeader)
	assert.Equal(t, 8, cfg.RemoteWrite.Shards)
	assert.False(t, cfg.RemoteWrite.NativeHistograms)
	assert.Equal(t, "2.0", cfg.RemoteWrite.Protocol)
	require.True(t, cfg.QueueConfig.HasValue(), "a configured sending_queue is on")
	assert.Equal(t, int64(5000), cfg.QueueConfig.Get().QueueSize)
	assert.Equal(t, 1, cfg.QueueConfig.Get().NumConsumers, "one consumer keeps batches in order")
	assert.Zero(t, cfg.BackOffConfig.MaxElapsedTime)

	sub, err = cm.Sub(component.NewIDWithName(metadata.Type, "bad_remote").String())
	require.NoError(t, err)
	cfg = createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	err = confmap.Validate(cfg)
	for _, want := range []string{
		`"remote_write::http::endpoint" "mimir:9009" must be an http:// or https:// URL with a host`,
		`"remote_write::shards" must be at least 1, got 0`,
		`"remote_write::protocol" must be "1.0" or "2.0", got "3.0"`,
		`"sending_queue::num_consumers" is 4: with remote write it must be 1`,
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "127.0.0.1:9480", cfg.API.NetAddr.Endpoint)
	assert.Equal(t, "data/tsdb", cfg.Storage.Path)
	assert.Equal(t, "tenant", cfg.TenantAttribute)
	assert.False(t, cfg.remote(), "the embedded store is the default")
	assert.False(t, cfg.QueueConfig.HasValue(), "no sending queue unless configured: an acknowledgement means written")
}

type authData map[string]any

func (a authData) GetAttribute(name string) any { return a[name] }

func (a authData) GetAttributeNames() []string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	return names
}

func TestTenantOfRequest(t *testing.T) {
	tc := TenancyConfig{Enabled: true, Header: "X-Scope-OrgID", AuthAttribute: "subject"}
	req := func(header []string, auth client.AuthData) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/query", http.NoBody)
		for _, h := range header {
			r.Header.Add("X-Scope-OrgID", h)
		}
		if auth != nil {
			r = r.WithContext(client.NewContext(r.Context(), client.Info{Auth: auth}))
		}
		return r
	}
	for _, tt := range []struct {
		name    string
		r       *http.Request
		want    string
		wantErr string
	}{
		{"header", req([]string{"team-a"}, nil), "team-a", ""},
		{"auth identity wins over the header", req([]string{"team-a"}, authData{"subject": "team-b"}), "team-b", ""},
		{"auth without the attribute falls back to the header", req([]string{"team-a"}, authData{"other": "x"}), "team-a", ""},
		{"none", req(nil, nil), "", "no tenant: send the X-Scope-OrgID header"},
		{"two tenants", req([]string{"a", "b"}, nil), "", "the X-Scope-OrgID header names 2 tenants"},
		{"invalid", req([]string{"a/b"}, nil), "", `tenant ID "a/b" has the character '/'`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tc.tenantOf(tt.r)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
