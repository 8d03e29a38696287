package goruntimereceiver

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files from this run")

// fixtureServer serves the responses a fixture service of one Go release
// gave (captured by scripts/capture-fixtures.sh); metricsFile picks the
// /metrics variant.
func fixtureServer(t *testing.T, dir, metricsFile string) *httptest.Server {
	t.Helper()
	file := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	vars, metrics, dump2, dump1 := file("debug_vars.json"), file(metricsFile), file("goroutine_debug2.txt"), file("goroutine_debug1.txt")
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(vars) })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(metrics)
	})
	mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/debug/pprof/":
			_, _ = w.Write([]byte("<html>index</html>"))
		case r.URL.Path == "/debug/pprof/goroutine" && r.URL.Query().Get("debug") == "2":
			_, _ = w.Write(dump2)
		case r.URL.Path == "/debug/pprof/goroutine" && r.URL.Query().Get("debug") == "1":
			_, _ = w.Write(dump1)
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestFixtureGolden scrapes the captured responses of Go 1.22, 1.24 and
// 1.26 services through a target, with every source, and compares the
// result, values included, with the golden file of each release.
func TestFixtureGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "fixtures", "go*"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(dirs), 3, "fixtures of at least three Go releases")
	for _, dir := range dirs {
		for _, variant := range []struct{ metrics, golden string }{
			{"metrics_all.txt", "golden_all_runtime_metrics.yaml"},
			{"metrics.txt", "golden_default.yaml"},
		} {
			t.Run(filepath.Base(dir)+"/"+variant.golden, func(t *testing.T) {
				srv := fixtureServer(t, dir, variant.metrics)
				u, err := url.Parse(srv.URL)
				require.NoError(t, err)
				client := &http.Client{Timeout: 5 * time.Second}
				defer client.CloseIdleConnections()
				tg := target.New(target.Settings{
					Endpoint: u, Name: "fixture", MaxResponseSize: 16 << 20,
					GoroutineInterval: time.Minute, MaxDumpSize: 8 << 20, TopCreators: 10,
				}, client, metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type))
				md, err := tg.Scrape(context.Background(), time.Unix(1_800_000_000, 0))
				require.NoError(t, err)
				path := filepath.Join(dir, variant.golden)
				if *updateGolden {
					require.NoError(t, golden.WriteMetricsToFile(path, md))
				}
				want, err := golden.ReadMetrics(path)
				require.NoError(t, err)
				require.NoError(t, pmetrictest.CompareMetrics(want, md,
					pmetrictest.IgnoreMetricValues("go.scrape.duration"),
					pmetrictest.IgnoreStartTimestamp(),
					pmetrictest.IgnoreTimestamp(),
					pmetrictest.IgnoreMetricsOrder(),
					pmetrictest.IgnoreMetricDataPointsOrder(),
					pmetrictest.IgnoreScopeVersion(),
					pmetrictest.IgnoreResourceAttributeValue("url.full"),
					pmetrictest.IgnoreResourceAttributeValue("server.address"),
					pmetrictest.IgnoreResourceAttributeValue("service.instance.id"),
				))
			})
		}
	}
}
