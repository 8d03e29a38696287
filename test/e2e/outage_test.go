package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRemoteWriteSurvivesOutageAndRestart stops Prometheus in the middle of
// the feed, stops the collector while Prometheus is down (SIGTERM, and
// separately SIGKILL), starts both again, and finds every sample the
// collector acknowledged in Prometheus: the persistent sending queue
// (file_storage) kept them through both.
func TestRemoteWriteSurvivesOutageAndRestart(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) { outageRun(t, sig) })
	}
}

func outageRun(t *testing.T, sig syscall.Signal) {
	promBin := requireTool(t, "prometheus", "apt-get install -y prometheus")
	promAddr, promDir := freeAddr(t), t.TempDir()
	// After a collector restart, the request that was in flight is sent
	// again after those queued behind it, so the store needs an
	// out-of-order window that covers the outage (docs/OPERATIONS.md).
	const oooWindow = "storage:\n  tsdb:\n    out_of_order_time_window: 1h\n"
	stopProm := startPrometheusAt(t, promBin, promAddr, promDir, oooWindow)

	otlpAddr, telemetryAddr := freeAddr(t), freeAddr(t)
	_, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	queueDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "outage.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
extensions:
  file_storage:
    directory: %s
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  tsdb/prometheus:
    remote_write:
      http:
        endpoint: http://%s/api/v1/write
        timeout: 2s
    sending_queue:
      storage: file_storage
      queue_size: 100000
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 1s
      max_elapsed_time: 0s
service:
  extensions: [file_storage]
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
      receivers: [otlp]
      exporters: [tsdb/prometheus]
`, queueDir, otlpAddr, promAddr, telemetryPort))

	c := startCollector(t, cfg)
	waitFor(t, time.Minute, "OTLP receiver answering", func() error {
		return postOTLP(otlpAddr, "", seriesBatch(1, time.Now().Add(-30*time.Minute)))
	})
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if err := postOTLP(otlpAddr, "", crashBatch(5, i, base)); err != nil {
				t.Fatalf("batch %d not acknowledged: %v", i, err)
			}
		}
	}
	send(0, 50)
	waitFor(t, 30*time.Second, "the first 50 batches in Prometheus", func() error {
		return expectBatches(t, promAddr, 50)
	})

	stopProm()
	send(50, 100) // acknowledged into the persistent queue while Prometheus is down
	time.Sleep(500 * time.Millisecond)
	c.stop(sig, 30*time.Second)

	startCollector(t, cfg)
	startPrometheusAt(t, promBin, promAddr, promDir, oooWindow)
	waitFor(t, 90*time.Second, "every acknowledged batch in Prometheus", func() error {
		return expectBatches(t, promAddr, 100)
	})
}

// expectBatches checks that Prometheus holds crash_series samples 0..n-1
// of every series.
func expectBatches(t *testing.T, addr string, n int) error {
	t.Helper()
	data, err := apiGet(context.Background(), addr, "/api/v1/query", map[string][]string{"query": {"count_over_time(crash_series[1h])"}})
	if err != nil {
		return err
	}
	var d queryData[vectorSample]
	if err := jsonUnmarshal(data, &d); err != nil {
		return err
	}
	if len(d.Result) != 5 {
		return fmt.Errorf("%d series, want 5", len(d.Result))
	}
	for _, s := range d.Result {
		if c := value(t, s.Value); c != float64(n) {
			return fmt.Errorf("series %s has %v samples, want %d; missing %v", s.Metric["series"], c, n, missingBatches(t, addr, s.Metric["series"], n))
		}
	}
	return nil
}

// missingBatches lists the batch numbers (sample values) of a series that
// Prometheus lacks.
func missingBatches(t *testing.T, addr, series string, n int) []int {
	t.Helper()
	have := map[string]bool{}
	for _, s := range query[matrixSeries](t, addr, fmt.Sprintf(`crash_series{series=%q}[1h]`, series), nil) {
		for _, p := range s.Values {
			have[fmt.Sprint(p[1])] = true
		}
	}
	var missing []int
	for i := range n {
		if !have[fmt.Sprint(i)] {
			missing = append(missing, i)
		}
	}
	return missing
}
