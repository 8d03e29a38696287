package goruntimereceiver

import (
	"context"
	"expvar"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/scraper/scrapererror"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

// TestReceiverDeliversSelfMetrics runs the receiver through the scraper
// controller and checks what reaches the next consumer.
func TestReceiverDeliversSelfMetrics(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 10 * time.Millisecond
	cfg.InitialDelay = 0
	set := receivertest.NewNopSettings(metadata.Type)
	set.BuildInfo.Command = "otelcol-test"
	set.Resource.Attributes().PutStr("service.instance.id", "abc-123")
	sink := new(consumertest.MetricsSink)

	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= 2 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))

	md := sink.AllMetrics()[0]
	require.Equal(t, 1, md.ResourceMetrics().Len())
	res := md.ResourceMetrics().At(0).Resource().Attributes()
	assertStr(t, res, "service.name", "otelcol-test")
	assertStr(t, res, "service.instance.id", "abc-123")
	assertStr(t, res, "process.runtime.name", "go")
	// 38 sum points (13 of them memory classes), the two histograms, and
	// the memory limit if one is set.
	want := 40
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		want++
	}
	assert.Equal(t, want, md.DataPointCount())
}

func TestServiceNameFromConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Self.ServiceName = "edge"
	s := newGoRuntimeScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	assertStr(t, md.ResourceMetrics().At(0).Resource().Attributes(), "service.name", "edge")
	require.NoError(t, s.shutdown(context.Background()))
}

func assertStr(t *testing.T, m pcommon.Map, key, want string) {
	t.Helper()
	v, ok := m.Get(key)
	if assert.True(t, ok, "resource attribute %s missing", key) {
		assert.Equal(t, want, v.Str(), key)
	}
}

// TestOneBadTargetBlocksNoOther scrapes a good target next to a slow, a
// dead and a lying one: the good one is delivered, each bad one is down
// and named in the partial scrape error, and the slow one costs no more
// than its own timeout.
func TestOneBadTargetBlocksNoOther(t *testing.T) {
	good := httptest.NewServer(expvar.Handler())
	defer good.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	lying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"memstats": [1,2,3]}`))
	}))
	defer lying.Close()

	cfg := createDefaultConfig().(*Config)
	cfg.Self.Enabled = false
	for _, ep := range []string{good.URL, slow.URL, "http://127.0.0.1:1", lying.URL} {
		tc := TargetConfig{Endpoint: ep, HTTP: confighttp.NewDefaultClientConfig()}
		cfg.Targets = append(cfg.Targets, tc)
	}
	withTargetDefaults(cfg)
	cfg.Targets[1].HTTP.Timeout = 300 * time.Millisecond
	require.NoError(t, confmap.Validate(cfg))

	s := newGoRuntimeScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	began := time.Now()
	md, err := s.scrape(context.Background())
	took := time.Since(began)
	require.Error(t, err)
	var partial scrapererror.PartialScrapeError
	require.ErrorAs(t, err, &partial)
	assert.Equal(t, 3, partial.Failed)
	assert.Less(t, took, 3*time.Second, "the slow target must cost no more than its timeout")

	up := map[string]int64{}
	for i := range md.ResourceMetrics().Len() {
		rm := md.ResourceMetrics().At(i)
		u, _ := rm.Resource().Attributes().Get("url.full")
		ms := rm.ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			if ms.At(j).Name() == "go.scrape.up" {
				up[u.Str()] = ms.At(j).Gauge().DataPoints().At(0).IntValue()
			}
		}
	}
	assert.Equal(t, map[string]int64{good.URL: 1, slow.URL: 0, "http://127.0.0.1:1": 0, lying.URL: 0}, up)
	require.NoError(t, s.shutdown(context.Background()))
}

// TestScrapeOnlyWhileRunning: a scrape before start or after shutdown is an
// error and reads no target; in between, every target is read, the one
// without a worker of its own included.
func TestScrapeOnlyWhileRunning(t *testing.T) {
	// Only this test's requests count: host discovery running in another
	// test process may probe this one's ports too.
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") == t.Name() {
			hits.Add(1)
		}
		expvar.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.Self.Enabled = false
	for _, name := range []string{"a", "b"} {
		hc := confighttp.NewDefaultClientConfig()
		hc.Headers.Set("X-Test", configopaque.String(t.Name()))
		cfg.Targets = append(cfg.Targets, TargetConfig{Endpoint: srv.URL, Name: name, Sources: []string{"expvar"}, HTTP: hc})
	}
	withTargetDefaults(cfg)
	require.NoError(t, confmap.Validate(cfg))
	s := newGoRuntimeScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	_, err := s.scrape(context.Background())
	require.ErrorContains(t, err, "before start or after shutdown")
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, md.ResourceMetrics().Len())
	assert.Equal(t, int64(2), hits.Load())
	require.NoError(t, s.shutdown(context.Background()))
	_, err = s.scrape(context.Background())
	require.ErrorContains(t, err, "before start or after shutdown")
	assert.Equal(t, int64(2), hits.Load())
}
