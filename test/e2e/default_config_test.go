package e2e

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDefaultConfigEndToEnd runs the built collector with the shipped
// config/default.yaml (paths and ports from the environment), queries the
// self source's metrics through the Prometheus API and promtool, restarts
// the collector on the same data directory and finds the earlier samples.
func TestDefaultConfigEndToEnd(t *testing.T) {
	promtool := requireTool(t, "promtool", "apt-get install -y prometheus")
	apiAddr := freeAddr(t)
	_, telemetryPort, _ := strings.Cut(freeAddr(t), ":")
	env := []string{
		"OTELCOL_GORUNTIME_DATA=" + t.TempDir(),
		"OTELCOL_GORUNTIME_API=" + apiAddr,
		"OTELCOL_GORUNTIME_TENANT=e2e-tenant",
		"OTELCOL_GORUNTIME_TELEMETRY_PORT=" + telemetryPort,
	}
	config := filepath.Join(repoRoot, "config", "default.yaml")

	c := startCollector(t, config, env...)
	waitFor(t, time.Minute, "query API answering", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})
	var before []vectorSample
	waitFor(t, 30*time.Second, "first scrape stored", func() error {
		before = query[vectorSample](t, apiAddr, selfOnly("go_goroutine_count"), nil)
		if len(before) == 0 {
			return errNoData
		}
		return nil
	})

	// The default job also discovers the host's Go processes.
	waitFor(t, 30*time.Second, "a discovered process stored", func() error {
		if len(query[vectorSample](t, apiAddr, `target_info{host_name!="", process_runtime_name="go"}`, nil)) == 0 {
			return errNoData
		}
		return nil
	})

	// Sane values, the tenant label and the resource labels.
	if len(before) != 1 {
		t.Fatalf("want one go_goroutine_count series, got %v", before)
	}
	s := before[0]
	if s.Metric["tenant"] != "e2e-tenant" || s.Metric["job"] != "otelcol-goruntime" || s.Metric["instance"] == "" {
		t.Errorf("labels %v: want tenant e2e-tenant, job otelcol-goruntime and an instance", s.Metric)
	}
	if n := value(t, s.Value); n < 5 || n > 10000 {
		t.Errorf("go_goroutine_count = %v, not a collector's goroutine count", n)
	}
	mem := query[vectorSample](t, apiAddr, selfOnly("go_memory_used_bytes"), nil)
	byType := map[string]float64{}
	for _, m := range mem {
		byType[m.Metric["go_memory_type"]] = value(t, m.Value)
		if m.Metric["tenant"] != "e2e-tenant" {
			t.Errorf("go_memory_used_bytes without the tenant label: %v", m.Metric)
		}
	}
	if byType["stack"] <= 0 || byType["other"] < 1<<20 || byType["other"] > 1<<34 {
		t.Errorf("go_memory_used_bytes by type = %v, want a positive stack and 1 MiB..16 GiB other", byType)
	}

	// promtool, Prometheus' own client, reads the API unchanged.
	now := time.Now().Unix()
	for _, pc := range []struct {
		args []string
		want []string
	}{
		{[]string{"instant", "http://" + apiAddr, "go_goroutine_count"}, []string{`tenant="e2e-tenant"`, "=>"}},
		{[]string{"range", "--start=" + strconv.FormatInt(now-120, 10), "--end=" + strconv.FormatInt(now+1, 10), "--step=5s", "http://" + apiAddr, "go_goroutine_count"}, []string{`job="otelcol-goruntime"`, "=>"}},
		{[]string{"series", "--match=go_memory_used_bytes", "http://" + apiAddr}, []string{`go_memory_type="stack"`, `go_memory_type="other"`}},
		{[]string{"labels", "http://" + apiAddr, "go_memory_type"}, []string{"stack", "other"}},
	} {
		out, err := exec.Command(promtool, append([]string{"query"}, pc.args...)...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool query %v: %v\n%s", pc.args, err, out)
			continue
		}
		for _, w := range pc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("promtool query %v: no %q in\n%s", pc.args, w, out)
			}
		}
	}

	// The raw samples stored before the restart.
	stored := rawSamples(t, apiAddr)
	c.stop(syscall.SIGTERM, 30*time.Second)

	startCollector(t, config, env...)
	waitFor(t, time.Minute, "query API answering after restart", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})
	after := rawSamples(t, apiAddr)
	for ts, v := range stored {
		if got, ok := after[ts]; !ok || got != v {
			t.Errorf("sample at %s = %v before the restart, %v (present %v) after", ts, v, got, ok)
		}
	}
	// And the restarted collector writes on into the same store.
	waitFor(t, 30*time.Second, "new samples after restart", func() error {
		if len(rawSamples(t, apiAddr)) <= len(stored) {
			return errNoData
		}
		return nil
	})
}

// selfOnly selects the collector's own series of metric: discovered
// processes have instance HOST:PID, the collector its instance ID.
func selfOnly(metric string) string {
	return metric + `{instance!~".+:[0-9]+"}`
}

// rawSamples returns every stored go_goroutine_count sample of the last
// hour, keyed by series and timestamp.
func rawSamples(t *testing.T, addr string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range query[matrixSeries](t, addr, "go_goroutine_count[1h]", nil) {
		for _, p := range s.Values {
			out[fmt.Sprintf("%s@%v", s.Metric["instance"], p[0])] = fmt.Sprint(p[1])
		}
	}
	return out
}

func value(t *testing.T, v [2]any) float64 {
	t.Helper()
	s, ok := v[1].(string)
	if !ok {
		t.Fatalf("sample value %v is not a string", v[1])
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		t.Fatalf("sample value %q: %v", s, err)
	}
	return f
}
