package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	demoOnce sync.Once
	demoBin  string
	demoErr  error
)

// demoBinary builds examples/demoservice once per test run.
func demoBinary(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otelcol-goruntime-demo")
		if err != nil {
			demoErr = err
			return
		}
		demoBin = filepath.Join(dir, "demoservice")
		cmd := exec.Command("go", "build", "-o", demoBin, "./examples/demoservice")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			demoErr = fmt.Errorf("go build ./examples/demoservice: %w\n%s", err, out)
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoBin
}

// demo is one running demo service.
type demo struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startDemo runs the demo service with args and returns once it listens.
func startDemo(t *testing.T, args ...string) *demo {
	t.Helper()
	cmd := exec.Command(demoBinary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &demo{cmd: cmd, done: make(chan struct{})}
	lines := bufio.NewScanner(out)
	if lines.Scan() {
		d.addr = strings.TrimPrefix(lines.Text(), "listening on ")
	}
	go func() {
		for lines.Scan() {
		}
		_ = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() { d.stop() })
	if d.addr == "" {
		t.Fatal("the demo service did not say where it listens")
	}
	return d
}

func (d *demo) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// histogramSample is one native histogram sample of a range query.
type histogramSample struct {
	Count string `json:"count"`
	Sum   string `json:"sum"`
}

// rawSeries reads the raw samples of expr[window] by timestamp.
func rawFloats(t *testing.T, addr, expr string) map[float64]float64 {
	t.Helper()
	out := map[float64]float64{}
	for _, s := range query[matrixSeries](t, addr, expr, nil) {
		for _, p := range s.Values {
			out[p[0].(float64)] = value(t, p)
		}
	}
	return out
}

func rawHistogramCounts(t *testing.T, addr, expr string) map[float64]float64 {
	t.Helper()
	data, err := apiGet(context.Background(), addr, "/api/v1/query", map[string][]string{"query": {expr}})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Result []struct {
			Histograms [][2]json.RawMessage `json:"histograms"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	out := map[float64]float64{}
	for _, s := range d.Result {
		for _, h := range s.Histograms {
			var ts float64
			var hs histogramSample
			_ = json.Unmarshal(h[0], &ts)
			_ = json.Unmarshal(h[1], &hs)
			var c float64
			_, _ = fmt.Sscan(hs.Count, &c)
			out[ts] = c
		}
	}
	return out
}

// TestDemoServicesExactPauses scrapes two demo services through the built
// collector: for every scrape, the per-cycle pause histogram has grown by
// exactly as many cycles as go_memory_gc_cycles_total; the demo's leak
// counter (an expvar user variable) grows; a restarted demo starts its
// histogram over.
func TestDemoServicesExactPauses(t *testing.T) {
	a := startDemo(t, "-listen", "127.0.0.1:0", "-gc-every", "50ms", "-leak-per-second", "20")
	b := startDemo(t, "-listen", "127.0.0.1:0", "-gc-every", "70ms", "-expvar-only")
	apiAddr, telemetryAddr := freeAddr(t), freeAddr(t)
	_, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	cfg := filepath.Join(t.TempDir(), "demo.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
receivers:
  go_runtime:
    collection_interval: 1s
    initial_delay: 0s
    self:
      enabled: false
    targets:
      - endpoint: http://%s
        name: demo-a
        expvar:
          include: [demo_leaked_goroutines]
      - endpoint: http://%s
        name: demo-b
processors:
  tenant:
    default_tenant: demo
exporters:
  tsdb:
    storage:
      path: %s
    api:
      endpoint: %s
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %s
  pipelines:
    metrics:
      receivers: [go_runtime]
      processors: [tenant]
      exporters: [tsdb]
`, a.addr, b.addr, filepath.Join(t.TempDir(), "tsdb"), apiAddr, telemetryPort))
	startCollector(t, cfg)
	waitFor(t, time.Minute, "query API answering", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})

	for _, svc := range []string{"demo-a", "demo-b"} {
		waitFor(t, 30*time.Second, svc+" scraped 6 times", func() error {
			if n := len(rawFloats(t, apiAddr, fmt.Sprintf(`go_memory_gc_cycles_total{job=%q}[1h]`, svc))); n < 6 {
				return fmt.Errorf("%d scrapes", n)
			}
			return nil
		})
		cycles := rawFloats(t, apiAddr, fmt.Sprintf(`go_memory_gc_cycles_total{job=%q}[1h]`, svc))
		counts := rawHistogramCounts(t, apiAddr, fmt.Sprintf(`go_memory_gc_cycle_pause_duration_seconds{job=%q}[1h]`, svc))
		times := make([]float64, 0, len(cycles))
		for ts := range cycles {
			times = append(times, ts)
		}
		sort.Float64s(times)
		first := times[0]
		for _, ts := range times[1:] {
			c, ok := counts[ts]
			if !ok {
				t.Errorf("%s: no histogram sample at %v", svc, ts)
				continue
			}
			if want := cycles[ts] - cycles[first]; c != want {
				t.Errorf("%s at %v: histogram counts %v cycles, NumGC grew by %v", svc, ts, c, want)
			}
		}
		if last := times[len(times)-1]; cycles[last]-cycles[first] < 10 {
			t.Errorf("%s: only %v GC cycles; the demo forces several a second", svc, cycles[last]-cycles[first])
		}
	}

	leaks := rawFloats(t, apiAddr, `expvar_demo_leaked_goroutines{job="demo-a"}[1h]`)
	if len(leaks) < 2 {
		t.Fatalf("leak counter samples: %v", leaks)
	}
	var lo, hi float64 = 1e18, 0
	for _, v := range leaks {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi <= lo {
		t.Errorf("the leak counter did not grow: %v", leaks)
	}

	// Restart demo-b on the same address: its histogram starts over.
	before := rawHistogramCounts(t, apiAddr, `go_memory_gc_cycle_pause_duration_seconds{job="demo-b"}[1h]`)
	var peak float64
	for _, c := range before {
		peak = max(peak, c)
	}
	b.stop()
	startDemo(t, "-listen", b.addr, "-gc-every", "1h", "-expvar-only")
	waitFor(t, 30*time.Second, "demo-b scraped after its restart", func() error {
		data, err := apiGet(context.Background(), apiAddr, "/api/v1/query", map[string][]string{"query": {`histogram_count(go_memory_gc_cycle_pause_duration_seconds{job="demo-b"})`}})
		if err != nil {
			return err
		}
		var d queryData[vectorSample]
		if err := json.Unmarshal(data, &d); err != nil || len(d.Result) != 1 {
			return fmt.Errorf("%s", data)
		}
		if c := value(t, d.Result[0].Value); c >= peak {
			return fmt.Errorf("count %v, still the old process's (%v)", c, peak)
		}
		return nil
	})
	if got := query[vectorSample](t, apiAddr, `rate(go_memory_gc_cycles_total{job="demo-b"}[1m]) < 0`, nil); len(got) != 0 {
		t.Errorf("negative rate after the restart: %v", got)
	}
}
