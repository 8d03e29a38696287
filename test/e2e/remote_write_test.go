package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestRemoteWriteDelivers sends the compatibility data set as OTLP through
// the built collector to three exporters at once: the embedded store,
// remote write to Debian's Prometheus 2.42, and remote write to Debian's
// VictoriaMetrics 1.79 (without native histograms, which it drops). Every
// PromQL expression of the compatibility test answers the same from
// Prometheus as from the embedded store, and VictoriaMetrics holds every
// float sample of every series the embedded store holds.
func TestRemoteWriteDelivers(t *testing.T) {
	promBin := requireTool(t, "prometheus", "apt-get install -y prometheus")
	vmBin := requireTool(t, "victoria-metrics", "apt-get install -y victoria-metrics")
	promAddr := startPrometheus(t, promBin)
	vmAddr := startVictoriaMetrics(t, vmBin)

	otlpAddr, apiAddr, telemetryAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	_, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	cfg := filepath.Join(t.TempDir(), "remote.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  tsdb:
    storage:
      path: %s
    api:
      endpoint: %s
  tsdb/prometheus:
    remote_write:
      http:
        endpoint: http://%s/api/v1/write
  tsdb/victoriametrics:
    remote_write:
      http:
        endpoint: http://%s/api/v1/write
      native_histograms: false
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
      exporters: [tsdb, tsdb/prometheus, tsdb/victoriametrics]
`, otlpAddr, filepath.Join(t.TempDir(), "tsdb"), apiAddr, promAddr, vmAddr, telemetryPort))
	startCollector(t, cfg)
	waitFor(t, time.Minute, "query API answering", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})

	base := time.Now().Add(-40 * time.Minute).Truncate(time.Minute).Add(500 * time.Millisecond)
	const steps = 120
	for i := range steps {
		if err := postOTLP(otlpAddr, "", compatData(base, i)); err != nil {
			t.Fatalf("OTLP batch %d: %v", i, err)
		}
	}
	total, err := countSeries(apiAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "all series in Prometheus", func() error {
		n, err := countSeries(promAddr)
		if err != nil || n != total {
			return fmt.Errorf("%d series of %d (%w)", n, total, err)
		}
		return nil
	})

	evalTimes := []time.Time{base.Add(12*time.Minute + 250*time.Millisecond), base.Add(29*time.Minute + 40*time.Second + 250*time.Millisecond)}
	for _, expr := range compatExpressions {
		for _, ts := range evalTimes {
			params := url.Values{"query": {expr}, "time": {fmt.Sprintf("%.3f", float64(ts.UnixMilli())/1000)}}
			compareAnswers(t, "remote-written "+expr, promAddr, apiAddr, "/api/v1/query", params, withinBucket[expr])
		}
	}

	// VictoriaMetrics: every float sample of every series, by its raw
	// export.
	ours := rawFloatSeries(t, apiAddr)
	n := 0
	for _, samples := range ours {
		n += len(samples)
	}
	if len(ours) < 30 || n < 30*steps {
		t.Fatalf("only %d float series with %d samples to compare", len(ours), n)
	}
	waitFor(t, 60*time.Second, "all samples in VictoriaMetrics", func() error {
		got, err := victoriaExport(vmAddr)
		if err != nil {
			return err
		}
		missing := 0
		var example string
		for key, samples := range ours {
			for ts, v := range samples {
				if gv, ok := got[key][ts]; !ok || !approxEqual(gv, v, 1e-12) {
					missing++
					example = fmt.Sprintf("%s @%d: ours %v, VictoriaMetrics %v (present %v)", key, ts, v, gv, ok)
				}
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d samples differ or are missing, e.g. %s", missing, example)
		}
		return nil
	})
}

// rawFloatSeries reads every float sample of the embedded store, by series
// (labels sorted, as text) and millisecond timestamp.
func rawFloatSeries(t *testing.T, addr string) map[string]map[int64]float64 {
	t.Helper()
	out := map[string]map[int64]float64{}
	for _, s := range query[matrixSeries](t, addr, `{__name__=~".+"}[2h]`, nil) {
		if len(s.Values) == 0 {
			continue // native histograms come as "histograms"
		}
		key := seriesKey(s.Metric)
		out[key] = map[int64]float64{}
		for _, p := range s.Values {
			out[key][int64(p[0].(float64)*1000+0.5)] = value(t, p)
		}
	}
	return out
}

func seriesKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, m[k])
	}
	return b.String()
}

// victoriaExport reads every raw sample VictoriaMetrics holds.
func victoriaExport(addr string) (map[string]map[int64]float64, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/export?match[]=" + url.QueryEscape(`{__name__!=""}`))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("export: status %d", resp.StatusCode)
	}
	out := map[string]map[int64]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Values     []float64         `json:"values"`
			Timestamps []int64           `json:"timestamps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, err
		}
		key := seriesKey(line.Metric)
		if out[key] == nil {
			out[key] = map[int64]float64{}
		}
		for i, ts := range line.Timestamps {
			out[key][ts] = line.Values[i]
		}
	}
	return out, sc.Err()
}

// startVictoriaMetrics runs Debian's VictoriaMetrics on a free loopback
// port until the test ends.
func startVictoriaMetrics(t *testing.T, bin string) string {
	t.Helper()
	addr := freeAddr(t)
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "victoria-metrics.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-httpListenAddr="+addr, "-storageDataPath="+filepath.Join(dir, "data"), "-retentionPeriod=1y",
		"-search.latencyOffset=0s", "-search.disableCache")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting victoria-metrics: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("victoria-metrics log:\n%s", b)
		}
	})
	waitFor(t, time.Minute, "victoria-metrics ready", func() error {
		resp, err := http.Get("http://" + addr + "/health")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return addr
}

// TestRemoteWriteEndsSeriesThatStop sends two series to Prometheus through
// the built collector, then only one: the other gets a staleness marker
// one interval after its last sample, so Prometheus stops returning it
// there instead of five minutes later.
func TestRemoteWriteEndsSeriesThatStop(t *testing.T) {
	promBin := requireTool(t, "prometheus", "apt-get install -y prometheus")
	promAddr := startPrometheus(t, promBin)
	otlpAddr, telemetryAddr := freeAddr(t), freeAddr(t)
	_, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	cfg := filepath.Join(t.TempDir(), "stale.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
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
      stale_after: 2s
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
      exporters: [tsdb/prometheus]
`, otlpAddr, promAddr, telemetryPort))
	startCollector(t, cfg)
	base := time.Now().Add(-time.Minute).Truncate(time.Second)
	waitFor(t, time.Minute, "OTLP receiver answering", func() error {
		return postOTLP(otlpAddr, "", seriesBatch(2, base))
	})
	// seriesBatch(2) holds series 0 and 1, seriesBatch(1) only series 0.
	for i := 1; i <= 5; i++ {
		if err := postOTLP(otlpAddr, "", seriesBatch(2, base.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	lastOfOne := base.Add(5 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	i := 6
	for {
		if err := postOTLP(otlpAddr, "", seriesBatch(1, base.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
		i++
		got := query[vectorSample](t, promAddr, `e2e_series{series="1"}`, url.Values{"time": {fmt.Sprintf("%.3f", float64(lastOfOne.Add(1500*time.Millisecond).UnixMilli())/1000)}})
		if len(got) == 0 {
			break // the marker at lastOfOne+1s ended the series
		}
		if time.Now().After(deadline) {
			t.Fatalf("series 1 still answers after its end: %v", got)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Before its end it is there, and the other series goes on.
	if got := query[vectorSample](t, promAddr, `e2e_series{series="1"}`, url.Values{"time": {fmt.Sprintf("%.3f", float64(lastOfOne.Add(500*time.Millisecond).UnixMilli())/1000)}}); len(got) != 1 {
		t.Errorf("series 1 before its end: %v", got)
	}
	if got := query[vectorSample](t, promAddr, `e2e_series{series="0"}`, url.Values{"time": {fmt.Sprintf("%.3f", float64(lastOfOne.Add(1500*time.Millisecond).UnixMilli())/1000)}}); len(got) != 1 {
		t.Errorf("series 0 must go on: %v", got)
	}
}
