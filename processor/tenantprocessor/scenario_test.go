package tenantprocessor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
)

// A scenario is a folder under testdata/scenarios with a config.yaml and
// numbered stage files. A stage is a txtar archive:
//
//	-- config --     optional: reload with this config (merged on the defaults)
//	-- advance --    optional: move the clock by this duration and sweep
//	-- metadata --   optional: request metadata of the input, a YAML map of lists
//	-- in --         the input batch, OTLP JSON written as YAML
//	-- out --        the expected requests passed on: a YAML list of
//	                 {tenant: <X-Scope-OrgID of the request>, metrics: <OTLP JSON as YAML>}
//	-- telemetry --  optional: expected counters and gauges after the stage,
//	                 as "<metric> {<attr>=<value>,...}: <value>" lines
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runScenario(t, dir) })
	}
}

// sink records every request with the tenant metadata it came with.
type sink struct {
	requests []request
}

type request struct {
	tenant string
	md     pmetric.Metrics
}

func (*sink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *sink) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	tenant := strings.Join(client.FromContext(ctx).Metadata.Get("X-Scope-OrgID"), ",")
	s.requests = append(s.requests, request{tenant: tenant, md: md})
	return nil
}

func loadConfig(t *testing.T, raw []byte) *Config {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &m))
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(m).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	return cfg
}

func runScenario(t *testing.T, dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	require.NoError(t, err)
	cfg := loadConfig(t, raw)
	// A fresh ID per scenario: the tracker registry keys on it.
	id := component.NewIDWithName(metadata.Type, strings.ReplaceAll(dir, string(filepath.Separator), "_"))
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	clock := time.Unix(1_700_000_000, 0)
	out := &sink{}

	start := func(cfg *Config) *tenantProcessor {
		set := processortest.NewNopSettings(metadata.Type)
		set.ID = id
		set.TelemetrySettings = tel.NewTelemetrySettings()
		p, err := newTenantProcessor(cfg, set, trackerFor(id, cfg.limitSettings()), out)
		require.NoError(t, err)
		p.now = func() time.Time { return clock }
		require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
		return p
	}
	p := start(cfg)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()

	stages, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	require.NoError(t, err)
	require.NotEmpty(t, stages)
	for _, file := range stages {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		sections := parseTxtar(raw)
		name := filepath.Base(file)

		if c, ok := sections["config"]; ok {
			require.NoError(t, p.Shutdown(context.Background()))
			p = start(loadConfig(t, c))
		}
		if a, ok := sections["advance"]; ok {
			d, err := time.ParseDuration(strings.TrimSpace(string(a)))
			require.NoError(t, err, name)
			clock = clock.Add(d)
			p.tracker.Sweep(clock)
		}
		ctx := context.Background()
		if m, ok := sections["metadata"]; ok {
			var md map[string][]string
			require.NoError(t, yaml.Unmarshal(m, &md), name)
			ctx = client.NewContext(ctx, client.Info{Metadata: client.NewMetadata(md)})
		}
		in := yamlMetrics(t, sections["in"], name+": in")
		out.requests = nil
		require.NoError(t, p.ConsumeMetrics(ctx, in), name)

		var want []struct {
			Tenant  string `yaml:"tenant"`
			Metrics any    `yaml:"metrics"`
		}
		require.NoError(t, yaml.Unmarshal(sections["out"], &want), name)
		require.Len(t, out.requests, len(want), "%s: requests passed on", name)
		for i, w := range want {
			assert.Equal(t, w.Tenant, out.requests[i].tenant, "%s: request %d tenant metadata", name, i)
			assert.Equal(t, metricsJSON(t, toJSON(t, w.Metrics)), metricsJSON(t, out.requests[i].md), "%s: request %d", name, i)
		}
		if tl, ok := sections["telemetry"]; ok {
			assert.Equal(t, expectedTelemetry(tl), actualTelemetry(t, tel), "%s: telemetry", name)
		}
	}
}

// parseTxtar splits a txtar archive into its named sections.
func parseTxtar(data []byte) map[string][]byte {
	out := map[string][]byte{}
	var name string
	var buf []string
	flush := func() {
		if name != "" {
			out[name] = []byte(strings.Join(buf, "\n"))
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --") {
			flush()
			name, buf = strings.TrimSuffix(strings.TrimPrefix(line, "-- "), " --"), nil
			continue
		}
		buf = append(buf, line)
	}
	flush()
	return out
}

func toJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func yamlMetrics(t *testing.T, raw []byte, what string) pmetric.Metrics {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(raw, &v), what)
	md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(toJSON(t, v))
	require.NoError(t, err, what)
	return md
}

// metricsJSON normalises metrics (given as pdata or OTLP JSON) to indented
// JSON, so that differences show as a readable diff.
func metricsJSON(t *testing.T, v any) string {
	t.Helper()
	md, ok := v.(pmetric.Metrics)
	if !ok {
		var err error
		md, err = (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(v.([]byte))
		require.NoError(t, err)
	}
	b, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
	require.NoError(t, err)
	var generic any
	require.NoError(t, json.Unmarshal(b, &generic))
	pretty, err := json.MarshalIndent(generic, "", "  ")
	require.NoError(t, err)
	return string(pretty)
}

func expectedTelemetry(raw []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

// actualTelemetry renders every data point of the processor's telemetry as
// "<metric> {<attr>=<value>,...}: <value>".
func actualTelemetry(t *testing.T, tel *componenttest.Telemetry) []string {
	t.Helper()
	var lines []string
	for _, name := range []string{
		"otelcol_tenant_points_accepted", "otelcol_tenant_points_dropped", "otelcol_tenant_points_would_drop",
		"otelcol_tenant_series_active", "otelcol_tenant_series_limit",
	} {
		m, err := tel.GetMetric(name)
		if err != nil {
			continue // not recorded yet
		}
		var points []metricdata.DataPoint[int64]
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			points = d.DataPoints
		case metricdata.Gauge[int64]:
			points = d.DataPoints
		default:
			t.Fatalf("%s: unexpected data %T", name, m.Data)
		}
		for _, dp := range points {
			var attrs []string
			for _, kv := range dp.Attributes.ToSlice() {
				attrs = append(attrs, fmt.Sprintf("%s=%s", kv.Key, kv.Value.AsString()))
			}
			slices.Sort(attrs)
			lines = append(lines, fmt.Sprintf("%s {%s}: %d", strings.TrimPrefix(name, "otelcol_"), strings.Join(attrs, ","), dp.Value))
		}
	}
	sort.Strings(lines)
	return lines
}
