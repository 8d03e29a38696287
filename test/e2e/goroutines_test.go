package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoGoroutinesExact dumps a demo service's goroutines through the
// built collector: the counts by creating function and by wait reason equal
// what the demo was told to start, and the leak shows as a growing count
// attributed to the leaking function.
func TestDemoGoroutinesExact(t *testing.T) {
	d := startDemo(t, "-listen", "127.0.0.1:0", "-chan-waiters", "17", "-select-waiters", "9",
		"-mutex-waiters", "5", "-sleepers", "3", "-leak-per-second", "10")
	apiAddr, telemetryAddr := freeAddr(t), freeAddr(t)
	_, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	cfg := filepath.Join(t.TempDir(), "goroutines.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
receivers:
  go_runtime:
    collection_interval: 1s
    initial_delay: 0s
    self:
      enabled: false
    targets:
      - endpoint: http://%s
        name: demo
        goroutines:
          interval: 1s
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
      exporters: [tsdb]
`, d.addr, filepath.Join(t.TempDir(), "tsdb"), apiAddr, telemetryPort))
	startCollector(t, cfg)
	waitFor(t, time.Minute, "query API answering", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})

	want := map[string]float64{
		"main.spawnChanWaiters":   17,
		"main.spawnSelectWaiters": 9,
		"main.spawnMutexWaiters":  5,
		"main.spawnSleepers":      3,
	}
	waitFor(t, 30*time.Second, "goroutines by creator", func() error {
		got := map[string]float64{}
		for _, s := range query[vectorSample](t, apiAddr, `go_goroutine_creator_count{job="demo"}`, nil) {
			got[s.Metric["go_goroutine_creator"]] = value(t, s.Value)
		}
		for k, v := range want {
			if got[k] != v {
				return fmt.Errorf("by creator %v, want %v", got, want)
			}
		}
		return nil
	})
	status := map[string]float64{}
	for _, s := range query[vectorSample](t, apiAddr, `go_goroutine_status_count{job="demo"}`, nil) {
		status[s.Metric["go_goroutine_status"]] = value(t, s.Value)
	}
	if status["sync.Mutex.Lock"] != 5 || status["sleep"] != 3 {
		t.Errorf("by wait reason %v: want 5 in sync.Mutex.Lock and 3 in sleep", status)
	}
	if status["chan receive"] < 17 || status["select"] < 9 {
		t.Errorf("by wait reason %v: want at least 17 in chan receive and 9 in select", status)
	}

	// The leak: main.leak's goroutines grow from one dump to the next.
	leaked := func() float64 {
		for _, s := range query[vectorSample](t, apiAddr, `go_goroutine_creator_count{job="demo", go_goroutine_creator="main.leak"}`, nil) {
			return value(t, s.Value)
		}
		return 0
	}
	first := leaked()
	waitFor(t, 30*time.Second, "the leak growing", func() error {
		if n := leaked(); n < first+10 {
			return fmt.Errorf("main.leak holds %v goroutines, was %v", n, first)
		}
		return nil
	})
}
