// Package contribreceiver compares the go_runtime receiver with contrib's
// prometheus receiver scraping the same captured response. It is its own
// module so that contrib's receiver and its dependencies stay out of the
// distribution's build.
package contribreceiver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"
)

// fixtureEnv makes the test binary a fixture server instead of running
// benchmarks, so the server's CPU is not charged to the receivers.
const fixtureEnv = "GORUNTIME_BENCH_FIXTURE"

// fixture is a real client_golang response with every runtime metric
// enabled, captured from a Go 1.26 process.
var fixture = filepath.Join("..", "..", "receiver", "goruntimereceiver", "testdata", "fixtures", "go1.26.8", "metrics_all.txt")

func TestMain(m *testing.M) {
	if path := os.Getenv(fixtureEnv); path != "" {
		serveFixture(path, os.Getenv(fixtureEnv+"_ADDR"))
		return
	}
	os.Exit(m.Run())
}

// serveFixture serves /metrics: the captured text response when path
// names a file, or a live client_golang registry with every runtime metric
// (which answers in the format the scraper asks for) when path is "live".
func serveFixture(path, addr string) {
	if path == "live" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	} else {
		body, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		http.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			_, _ = w.Write(body)
		})
	}
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintln(os.Stderr, srv.ListenAndServe())
	os.Exit(1)
}

// startFixtureServer runs this test binary as a separate process serving
// target ("live" or a fixture file) at /metrics and returns its host:port.
func startFixtureServer(b *testing.B, target string) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	abs := target
	if target != "live" {
		if abs, err = filepath.Abs(target); err != nil {
			b.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fixtureEnv+"="+abs, fixtureEnv+"_ADDR="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			_ = resp.Body.Close()
			return addr
		}
	}
	b.Fatal("fixture server did not start")
	return ""
}

// cpuTime returns this process's user and system CPU time.
func cpuTime(b *testing.B) (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkScrapeCPU runs each receiver as the collector runs it (its own
// scrape loop, a short interval, a consumer that only counts) against a
// target served by another process, and reports the CPU time of this
// process per scrape delivered. The wall time per op is the interval, not a
// cost. Targets: "fixture_text", the captured Go 1.26 response with every
// runtime metric, always as text; "client_golang", a live client_golang
// registry with every runtime metric and the process collector, answering
// in the format each receiver asks for (go_runtime asks for protobuf,
// contrib's receiver for text unless configured otherwise).
func BenchmarkScrapeCPU(b *testing.B) {
	for _, target := range []string{"fixture_text", "client_golang"} {
		path := fixture
		if target == "client_golang" {
			path = "live"
		}
		b.Run("target="+target, func(b *testing.B) { benchScrapeCPU(b, path) })
	}
}

func benchScrapeCPU(b *testing.B, target string) {
	const interval = "10ms"
	for _, tc := range []struct {
		name    string
		factory receiver.Factory
		conf    func(addr string) map[string]any
	}{
		{"go_runtime", goruntimereceiver.NewFactory(), func(addr string) map[string]any {
			return map[string]any{
				"collection_interval": interval,
				"initial_delay":       "0s",
				"self":                map[string]any{"enabled": false},
				"targets": []any{map[string]any{
					"endpoint": "http://" + addr,
					"sources":  []any{"prometheus"},
				}},
			}
		}},
		// Not receivers: the least any receiver pays for the same
		// exchange with net/http (see httpFloor), and without it (rawFloor).
		{"http_floor", nil, nil},
		{"raw_floor", nil, nil},
		{"contrib_prometheus", prometheusreceiver.NewFactory(), func(addr string) map[string]any {
			return map[string]any{"config": map[string]any{"scrape_configs": []any{map[string]any{
				"job_name":        "bench",
				"scrape_interval": interval,
				"scrape_timeout":  interval,
				"static_configs":  []any{map[string]any{"targets": []any{addr}}},
			}}}}
		}},
		{"contrib_prometheus_protobuf", prometheusreceiver.NewFactory(), func(addr string) map[string]any {
			return map[string]any{"config": map[string]any{"scrape_configs": []any{map[string]any{
				"job_name":         "bench",
				"scrape_interval":  interval,
				"scrape_timeout":   interval,
				"scrape_protocols": []any{"PrometheusProto", "PrometheusText0.0.4"},
				"static_configs":   []any{map[string]any{"targets": []any{addr}}},
			}}}}
		}},
	} {
		b.Run("receiver="+tc.name, func(b *testing.B) {
			addr := startFixtureServer(b, target)
			// The consumer wakes the benchmark when the scrape it waits for
			// arrives, so that waiting costs no CPU.
			var scrapes, points, want atomic.Int64
			reached := make(chan struct{}, 1)
			sink, err := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
				points.Add(int64(md.DataPointCount()))
				if scrapes.Add(1) == want.Load() {
					reached <- struct{}{}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			var r component.Component = &httpFloor{url: "http://" + addr + "/metrics", interval: 10 * time.Millisecond, sink: sink}
			if tc.name == "raw_floor" {
				r = &rawFloor{httpFloor{url: "http://" + addr + "/metrics", interval: 10 * time.Millisecond, sink: sink}}
			}
			if tc.factory != nil {
				cfg := tc.factory.CreateDefaultConfig()
				if err := confmap.NewFromStringMap(tc.conf(addr)).Unmarshal(cfg); err != nil {
					b.Fatal(err)
				}
				set := receivertest.NewNopSettings(tc.factory.Type())
				set.ID = component.NewID(tc.factory.Type())
				if r, err = tc.factory.CreateMetrics(context.Background(), set, cfg, sink); err != nil {
					b.Fatal(err)
				}
			}
			if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := r.Shutdown(context.Background()); err != nil {
					b.Error(err)
				}
			}()
			waitFor := func(n int64) {
				want.Store(n)
				if scrapes.Load() >= n {
					return
				}
				select {
				case <-reached:
				case <-time.After(time.Minute):
					b.Fatalf("%d scrapes after a minute, want %d", scrapes.Load(), n)
				}
			}
			// Warm up: the first scrapes set up caches on both sides; then
			// collect what the receiver before this one left behind.
			waitFor(50)
			runtime.GC()
			b.ResetTimer()
			user0, sys0 := cpuTime(b)
			n0, p0 := scrapes.Load(), points.Load()
			waitFor(n0 + int64(b.N))
			user, sys := cpuTime(b)
			user, sys = user-user0, sys-sys0
			n, p := scrapes.Load()-n0, points.Load()-p0
			b.StopTimer()
			b.ReportMetric(float64((user+sys).Microseconds())/float64(n), "cpu-µs/scrape")
			// The kernel's share: on loopback the sender's system time
			// includes delivering the bytes to the other end.
			b.ReportMetric(float64(sys.Microseconds())/float64(n), "sys-µs/scrape")
			b.ReportMetric(float64(p)/float64(n), "points/scrape")
		})
	}
}

// httpFloor is the least a receiver can pay for one scrape here: on each
// tick of its interval one GET of /metrics with net/http (asking for
// protobuf, uncompressed, over a kept-alive connection), the body read into
// a reused buffer and dropped, and an empty delivery to the consumer. No
// parsing, no pdata, no scrape framework. What a receiver costs above it is
// what it does with the answer.
type httpFloor struct {
	url      string
	interval time.Duration
	sink     consumer.Metrics
	stop     chan struct{}
	done     chan struct{}
}

func (f *httpFloor) Start(context.Context, component.Host) error {
	req, err := floorRequest(f.url)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	f.run(func() (*http.Response, error) { return client.Do(req) }, client.CloseIdleConnections)
	return nil
}

// floorRequest is the GET both floors send: protobuf, uncompressed.
func floorRequest(url string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}

// run makes one exchange on each tick of the interval, reads the answer
// into a reused buffer and drops it, and delivers nothing to the consumer;
// closeConns runs when it stops.
func (f *httpFloor) run(exchange func() (*http.Response, error), closeConns func()) {
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(f.done)
		defer closeConns()
		tick := time.NewTicker(f.interval)
		defer tick.Stop()
		buf := bytes.NewBuffer(make([]byte, 0, 1<<16))
		for {
			select {
			case <-f.stop:
				return
			case <-tick.C:
			}
			resp, err := exchange()
			if err != nil {
				continue
			}
			buf.Reset()
			_, _ = buf.ReadFrom(resp.Body)
			_ = resp.Body.Close()
			_ = f.sink.ConsumeMetrics(context.Background(), pmetric.NewMetrics())
		}
	}()
}

func (f *httpFloor) Shutdown(context.Context) error {
	if f.stop != nil {
		close(f.stop)
		<-f.done
	}
	return nil
}

// rawFloor is httpFloor without net/http's client: one kept-alive
// connection, the request written and the answer read in the ticking
// goroutine itself (net/http's request writer and response parser, none
// of its transport's goroutines). It shows what net/http's transport costs
// in the floor; a receiver cannot do without it, since every target gets
// confighttp's client (TLS, proxies, auth extensions, HTTP/2).
type rawFloor struct{ httpFloor }

func (f *rawFloor) Start(context.Context, component.Host) error {
	req, err := floorRequest(f.url)
	if err != nil {
		return err
	}
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		return err
	}
	br, bw := bufio.NewReader(conn), bufio.NewWriter(conn)
	f.run(func() (*http.Response, error) {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := req.Write(bw); err != nil {
			return nil, err
		}
		if err := bw.Flush(); err != nil {
			return nil, err
		}
		return http.ReadResponse(br, req)
	}, func() { _ = conn.Close() })
	return nil
}
