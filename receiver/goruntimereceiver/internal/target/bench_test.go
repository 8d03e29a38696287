package target

import (
	"bytes"
	"context"
	"errors"
	stdexpvar "expvar"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

// benchTarget serves h over loopback HTTP and reads only source from it.
func benchTarget(b *testing.B, h http.Handler, source string) *Target {
	b.Helper()
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	client := &http.Client{Timeout: 5 * time.Second}
	b.Cleanup(client.CloseIdleConnections)
	return New(Settings{
		Endpoint: u, Name: "bench", Sources: []string{source}, MaxResponseSize: 16 << 20,
		GoroutineInterval: 0, MaxDumpSize: 8 << 20, TopCreators: 10,
	},
		client, metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type))
}

// protoFixtureHandler serves a text fixture re-encoded once as the
// delimited protobuf exposition, as client_golang answers a scraper that
// asks for it.
func protoFixtureHandler(b *testing.B, name string) http.Handler {
	b.Helper()
	text, err := os.ReadFile(filepath.Join("..", "promtext", "testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	format := expfmt.NewFormat(expfmt.TypeProtoDelim)
	var body bytes.Buffer
	enc := expfmt.NewEncoder(&body, format)
	dec := expfmt.NewDecoder(bytes.NewReader(text), expfmt.NewFormat(expfmt.TypeTextPlain))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		if err := enc.Encode(&mf); err != nil {
			b.Fatal(err)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", string(format))
		_, _ = w.Write(body.Bytes())
	})
}

// BenchmarkScrape measures one scrape of one target per source, HTTP on
// loopback, parsing and conversion to pdata included: the receiver's whole
// per-target cost.
func BenchmarkScrape(b *testing.B) {
	for _, tc := range []struct {
		name, source string
		handler      func(b *testing.B) http.Handler
	}{
		{"prometheus_all_runtime_metrics", SourcePrometheus, func(b *testing.B) http.Handler {
			return fixtureHandlerB(b, "go1.26-runtime-metrics.txt")
		}},
		{"prometheus_all_runtime_metrics_protobuf", SourcePrometheus, func(b *testing.B) http.Handler {
			return protoFixtureHandler(b, "go1.26-runtime-metrics.txt")
		}},
		{"prometheus_default", SourcePrometheus, func(b *testing.B) http.Handler { return fixtureHandlerB(b, "go1.26-default.txt") }},
		{"expvar", SourceExpvar, func(*testing.B) http.Handler { return stdexpvar.Handler() }},
		{"expvar_static", SourceExpvar, func(*testing.B) http.Handler {
			// One answer captured after a full pause ring and served as is,
			// so the serving side costs little and the same every time.
			for range 256 {
				runtime.GC()
			}
			rec := httptest.NewRecorder()
			stdexpvar.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/vars", nil))
			body := rec.Body.Bytes()
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
		}},
		{"goroutines", SourceGoroutines, func(*testing.B) http.Handler { return pprofMux() }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tg := benchTarget(b, tc.handler(b), tc.source)
			ctx := context.Background()
			if _, err := tg.Scrape(ctx, time.Now()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tg.Scrape(ctx, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
