package tsdbexporter

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/metadata"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

func metrics(tenant string, temporality pmetric.AggregationTemporality) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	rm.Resource().Attributes().PutStr("org", tenant)
	rm.Resource().Attributes().PutStr("service.namespace", "shop")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("go.goroutine.count")
	m.SetUnit("{goroutine}")
	s := m.SetEmptySum()
	s.SetAggregationTemporality(temporality)
	s.SetIsMonotonic(temporality == pmetric.AggregationTemporalityDelta)
	dp := s.DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	dp.SetIntValue(42)
	return md
}

func TestExportThenQuery(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Storage.Path = filepath.Join(t.TempDir(), "tsdb")
	cfg.API.NetAddr.Endpoint = freePort(t)
	cfg.TenantAttribute = "org"
	cfg.PromoteResourceAttributes = []string{"service.namespace"}
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()

	exp, err := NewFactory().CreateMetrics(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.ConsumeMetrics(context.Background(), metrics("team-a", pmetric.AggregationTemporalityCumulative)))

	resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/query?query=go_goroutine_count", cfg.API.NetAddr.Endpoint))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// The tenant attribute is always a label; service.namespace because it
	// is configured; job is Prometheus' namespace/name join.
	assert.Contains(t, string(body), `"org":"team-a"`)
	assert.Contains(t, string(body), `"service_namespace":"shop"`)
	assert.Contains(t, string(body), `"job":"shop/api"`)
	assert.Contains(t, string(body), `"42"`)

	// Delta is refused permanently, counted, and does not stop the exporter.
	err = exp.ConsumeMetrics(context.Background(), metrics("team-a", pmetric.AggregationTemporalityDelta))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))

	got, err := tel.GetMetric("otelcol_tsdb_exporter_conversion_errors")
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
	appended, err := tel.GetMetric("otelcol_tsdb_exporter_samples_appended")
	require.NoError(t, err)
	// The gauge and target_info in the first batch, target_info in the second.
	assert.Equal(t, int64(3), appended.Data.(metricdata.Sum[int64]).DataPoints[0].Value)

	require.NoError(t, exp.Shutdown(context.Background()))
	resp, err = http.Get(fmt.Sprintf("http://%s/api/v1/query?query=up", cfg.API.NetAddr.Endpoint))
	if err == nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err, "the API must stop with the exporter")
}

func TestStartFailsClearlyWhenThePortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	cfg := createDefaultConfig().(*Config)
	cfg.Storage.Path = t.TempDir()
	cfg.API.NetAddr.Endpoint = ln.Addr().String()
	exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = exp.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, fmt.Sprintf("query API cannot listen on %q", ln.Addr().String()))
	require.NoError(t, exp.Shutdown(context.Background()))

	// The store was closed on the failed start: it opens again.
	cfg.API.NetAddr.Endpoint = ""
	exp, err = NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.Shutdown(context.Background()))
}

func TestPushBeforeStartIsAnError(t *testing.T) {
	e, err := newTSDBExporter(createDefaultConfig().(*Config), exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.ErrorContains(t, e.pushMetrics(context.Background(), metrics("a", pmetric.AggregationTemporalityCumulative)), "not open")
	require.NoError(t, e.shutdown(context.Background()))
}

func TestShutdownIsIdempotent(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Storage.Path = t.TempDir()
	cfg.API.NetAddr.Endpoint = ""
	e, err := newTSDBExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, e.shutdown(context.Background()))
	require.NoError(t, e.shutdown(context.Background()))
}

// TestOnlyRemoteWriteMutatesData: remote write moves a large batch's
// resources out and back while it sends, so it asks a pipeline for a batch
// of its own; the embedded store only reads.
func TestOnlyRemoteWriteMutatesData(t *testing.T) {
	for remote, want := range map[bool]bool{true: true, false: false} {
		cfg := createDefaultConfig().(*Config)
		cfg.Storage.Path = t.TempDir()
		if remote {
			cfg.RemoteWrite.HTTP.Endpoint = "http://127.0.0.1:1/api/v1/write"
		}
		exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
		require.NoError(t, err)
		assert.Equal(t, want, exp.Capabilities().MutatesData, "remote write: %v", remote)
	}
}

func TestRemoteModeTelemetry(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/write" {
			// Not the exporter: host discovery in another test process
			// may probe this one's ports.
			w.WriteHeader(http.StatusNotFound)
			return
		}
		requests.Add(1)
		assert.Equal(t, "team-a", r.Header.Get("X-Scope-OrgID"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.RemoteWrite.HTTP.Endpoint = srv.URL + "/api/v1/write"
	cfg.TenantAttribute = "org"
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateMetrics(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	md := metrics("team-a", pmetric.AggregationTemporalityCumulative)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	assert.Positive(t, requests.Load())

	sent, err := tel.GetMetric("otelcol_tsdb_exporter_remote_samples_sent")
	require.NoError(t, err)
	assert.Equal(t, int64(2), sent.Data.(metricdata.Sum[int64]).DataPoints[0].Value, "the gauge and target_info")
	newest, err := tel.GetMetric("otelcol_tsdb_exporter_remote_newest_sample")
	require.NoError(t, err)
	ts := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Timestamp().AsTime()
	assert.InDelta(t, float64(ts.UnixMilli())/1000, newest.Data.(metricdata.Gauge[float64]).DataPoints[0].Value, 0.001)
}

// TestRemoteWriteDoesNotFollowRedirects: an endpoint that redirects gets
// one POST, never a GET, and the batch fails as permanent.
func TestRemoteWriteDoesNotFollowRedirects(t *testing.T) {
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var posts, others atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Only the redirect's target counts as followed: host discovery
			// in another test process may probe this one's ports.
			if r.URL.Path == "/elsewhere" {
				others.Add(1)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			if r.Method != http.MethodPost || r.URL.Path != "/api/v1/write" {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			posts.Add(1)
			http.Redirect(w, r, "/elsewhere", code)
		}))
		cfg := createDefaultConfig().(*Config)
		cfg.RemoteWrite.HTTP.Endpoint = srv.URL + "/api/v1/write"
		cfg.BackOffConfig.Enabled = false
		exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
		err = exp.ConsumeMetrics(context.Background(), metrics("team-a", pmetric.AggregationTemporalityCumulative))
		require.Error(t, err, "%d", code)
		assert.True(t, consumererror.IsPermanent(err), "%d: %v", code, err)
		assert.Contains(t, err.Error(), strconv.Itoa(code))
		assert.Positive(t, posts.Load(), "%d", code)
		assert.Zero(t, others.Load(), "%d: the redirect was followed", code)
		require.NoError(t, exp.Shutdown(context.Background()))
		srv.Close()
	}
}
