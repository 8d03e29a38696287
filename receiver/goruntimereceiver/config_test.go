package goruntimereceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig().(*Config)
	custom.CollectionInterval = 5 * time.Second
	custom.InitialDelay = 0
	custom.Self.ServiceName = "edge-agent"
	custom.Metrics.GoCPUTime.Enabled = false
	custom.ResourceAttributes.ProcessExecutableName.Enabled = false

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr string
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "custom"), want: custom},
		{id: component.NewIDWithName(metadata.Type, "no_source"), wantErr: `no source is enabled: set "self::enabled: true"`},
		{id: component.NewIDWithName(metadata.Type, "zero_interval"), wantErr: `"collection_interval": requires positive value`},
		{id: component.NewIDWithName(metadata.Type, "unknown_field"), wantErr: "has invalid keys: enabeld"},
		{id: component.NewIDWithName(metadata.Type, "bad_targets"), wantErr: `"targets::0::endpoint" must not be empty`},
		{id: component.NewIDWithName(metadata.Type, "bad_targets"), wantErr: `"targets::1::endpoint" "ftp://x" must be an http:// or https:// URL with a host`},
		{id: component.NewIDWithName(metadata.Type, "bad_targets"), wantErr: `"targets::2::sources": unknown source "heap"; known: [expvar goroutines prometheus]`},
		{id: component.NewIDWithName(metadata.Type, "bad_targets"), wantErr: `"targets::2::max_response_size" must be positive, got -1`},
		{id: component.NewIDWithName(metadata.Type, "bad_targets"), wantErr: `"targets::2::expvar::include" "("`},
		{id: component.NewIDWithName(metadata.Type, "bad_targets"), wantErr: `"targets::2" and "targets::3" are both named "a:1"; give one a "name"`},
		{id: component.NewIDWithName(metadata.Type, "bad_discovery"), wantErr: `"discovery::interval" must be positive, got 0s`},
		{id: component.NewIDWithName(metadata.Type, "bad_service_name"), wantErr: `"discovery::service_name_from" must be "module", "package" or "executable", got "binary"`},
		{id: component.NewIDWithName(metadata.Type, "bad_discovery"), wantErr: `"discovery::include::executables" "("`},
		{id: component.NewIDWithName(metadata.Type, "bad_discovery"), wantErr: `"discovery::include::ports": 70000 is not a TCP port`},
		{id: component.NewIDWithName(metadata.Type, "bad_discovery"), wantErr: `"discovery::probe": "timeout", "max_ports_per_process", "max_per_scan" and "concurrency" must be positive`},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			// Compare the metric settings field by field: the generated
			// configs record whether the user set them.
			got := cfg.(*Config)
			assert.Equal(t, tt.want.ControllerConfig, got.ControllerConfig)
			assert.Equal(t, tt.want.Self, got.Self)
			assert.Equal(t, tt.want.Metrics.GoCPUTime.Enabled, got.Metrics.GoCPUTime.Enabled)
			assert.Equal(t, tt.want.Metrics.GoGoroutineCount.Enabled, got.Metrics.GoGoroutineCount.Enabled)
			assert.Equal(t, tt.want.ResourceAttributes.ProcessExecutableName.Enabled, got.ResourceAttributes.ProcessExecutableName.Enabled)
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, 15*time.Second, cfg.CollectionInterval)
	assert.True(t, cfg.Self.Enabled)
	assert.NoError(t, confmap.Validate(cfg))
}

func TestTargetsConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "targets").String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	require.Len(t, cfg.Targets, 2)
	a, b := cfg.Targets[0], cfg.Targets[1]
	assert.Equal(t, "checkout", targetName(a))
	assert.Equal(t, 2*time.Second, a.HTTP.Timeout, "the http block is decoded, not skipped")
	token, ok := a.HTTP.Headers.Get("X-Token")
	assert.True(t, ok)
	assert.Equal(t, "abc", string(token))
	assert.Equal(t, []string{"requests_.*"}, a.Expvar.Include)
	assert.Equal(t, map[string]string{"deployment.environment.name": "prod"}, a.ResourceAttributes)
	assert.Equal(t, "10.0.0.7:8443", targetName(b))
	assert.Equal(t, defaultTargetTimeout, b.HTTP.Timeout, "targets get default timeouts")
	assert.Equal(t, int64(defaultMaxResponseSize), b.MaxResponseSize)
	assert.Equal(t, 15*time.Second, cfg.CollectionInterval, "the receiver's own fields still decode")
}

func TestDiscoveryConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "discovery").String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	d := cfg.Discovery
	assert.True(t, d.Enabled)
	assert.Equal(t, 10*time.Second, d.Interval)
	assert.Equal(t, "/host/proc", d.ProcPath)
	assert.Equal(t, DiscoveryFilter{Executables: []string{"checkout-.*"}, Users: []string{"app"}}, d.Include)
	assert.Equal(t, DiscoveryFilter{Modules: []string{`example\.com/internal/.*`}, Ports: []int{5432}}, d.Exclude)
	assert.Equal(t, defaultProbeTimeout, d.Probe.Timeout, "unset probe settings keep their defaults")
	assert.Equal(t, 2*time.Minute, d.Goroutines.Interval, "goroutine dumps are never more frequent than scrapes")
	assert.True(t, cfg.Self.Enabled)

	assert.False(t, createDefaultConfig().(*Config).Discovery.Enabled, "discovery is opted into")
}

func TestUncompressedOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		compression, host string
		want              bool
	}{
		{"", "127.0.0.1", true},
		{"auto", "localhost", true},
		{"auto", "::1", true},
		{"auto", "10.0.0.7", false},
		{"", "checkout.internal", false},
		{"gzip", "127.0.0.1", false},
		{"none", "10.0.0.7", true},
	} {
		assert.Equal(t, tc.want, uncompressed(tc.compression, tc.host), "%+v", tc)
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Targets = []TargetConfig{{Endpoint: "http://a:1", Compression: "brotli"}}
	withTargetDefaults(cfg)
	assert.ErrorContains(t, confmap.Validate(cfg), `"targets::0::compression" must be "auto", "gzip" or "none", got "brotli"`)
}
