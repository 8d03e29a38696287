package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestAcknowledgedSamplesSurviveSIGKILL feeds the built collector over OTLP
// (no batch processor, so an acknowledgement means the exporter wrote the
// batch), kills it with SIGKILL in the middle of the feed, starts it again
// on the same data directory, and finds every acknowledged sample.
func TestAcknowledgedSamplesSurviveSIGKILL(t *testing.T) {
	const series = 10
	otlpAddr, apiAddr, telemetryAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	_, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	data := filepath.Join(t.TempDir(), "tsdb")
	config := filepath.Join(t.TempDir(), "crash.yaml")
	writeFile(t, config, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
processors:
  tenant:
    default_tenant: crash-test
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
      receivers: [otlp]
      processors: [tenant]
      exporters: [tsdb]
`, otlpAddr, data, apiAddr, telemetryPort))

	c := startCollector(t, config)
	waitFor(t, time.Minute, "query API answering", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})

	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	var mu sync.Mutex
	acked := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100_000; i++ {
			if err := postOTLP(otlpAddr, "", crashBatch(series, i, base)); err != nil {
				return // the collector is gone
			}
			mu.Lock()
			acked = i + 1
			mu.Unlock()
		}
	}()
	waitFor(t, 30*time.Second, "some batches acknowledged", func() error {
		mu.Lock()
		defer mu.Unlock()
		if acked < 200 {
			return fmt.Errorf("%d acknowledged", acked)
		}
		return nil
	})
	c.stop(syscall.SIGKILL, 10*time.Second)
	<-done
	mu.Lock()
	total := acked
	mu.Unlock()

	startCollector(t, config)
	waitFor(t, time.Minute, "query API answering after the crash", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})
	found := map[string]map[string]bool{}
	for _, s := range query[matrixSeries](t, apiAddr, "crash_series[1h]", nil) {
		seen := map[string]bool{}
		for _, p := range s.Values {
			seen[fmt.Sprint(p[1])] = true
		}
		found[s.Metric["series"]] = seen
	}
	if len(found) != series {
		t.Fatalf("%d series after the restart, want %d", len(found), series)
	}
	missing := 0
	for sr, seen := range found {
		for i := range total {
			if !seen[fmt.Sprint(i)] {
				missing++
				if missing < 5 {
					t.Errorf("series %s: acknowledged sample %d is gone", sr, i)
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged samples lost", missing, total*series)
	}
	t.Logf("%d batches of %d samples acknowledged before SIGKILL, all found after restart", total, series)
}

// crashBatch is batch i: one sample per series at base + i*100ms, value i.
func crashBatch(series, i int, base time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "crash")
	dps := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	dps.SetName("crash.series")
	g := dps.SetEmptyGauge().DataPoints()
	ts := pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * 100 * time.Millisecond))
	for s := range series {
		dp := g.AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(i))
		dp.Attributes().PutStr("series", fmt.Sprint(s))
	}
	return md
}
