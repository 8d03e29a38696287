package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// discoveryConfig runs the collector with host discovery and nothing else
// configured per service.
const discoveryConfig = `
receivers:
  go_runtime:
    collection_interval: 1s
    self:
      enabled: true
    discovery:
      enabled: true
      interval: 2s
      host_name: e2e-host
processors:
  tenant:
    default_tenant: discovery
exporters:
  tsdb:
    storage:
      path: %s
      out_of_order_window: 10m
    api:
      endpoint: %s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [go_runtime]
      processors: [tenant]
      exporters: [tsdb]
`

// TestHostDiscovery starts Go services with different endpoints and a
// process that is not Go, and checks that the collector, told nothing about
// any of them, finds exactly the Go ones and reads each from the sources
// it has.
func TestHostDiscovery(t *testing.T) {
	expvarOnly := startDemo(t, "-listen", "127.0.0.1:0", "-expvar-only")
	metricsOnly := startDemo(t, "-listen", "127.0.0.1:0", "-metrics-only")
	silent := startDemo(t, "-listen", "none")
	perl := exec.Command(requireTool(t, "perl", "apt-get install -y perl-base"), "-MIO::Socket::INET", "-e",
		`$|=1; my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:0", Listen => 5) or die; print $s->sockport, "\n"; while (my $c = $s->accept) { close $c }`)
	out, err := perl.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := perl.Start(); err != nil {
		t.Fatalf("perl (a non-Go process listening on a port): %v", err)
	}
	t.Cleanup(func() { _ = perl.Process.Kill(); _ = perl.Wait() })
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("perl did not listen: %v", err)
	}

	api := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, cfg, fmt.Sprintf(discoveryConfig, filepath.Join(t.TempDir(), "tsdb"), api))
	c := startCollector(t, cfg)

	instance := func(pid int) string { return "e2e-host:" + strconv.Itoa(pid) }
	// sources reads go_discovery_source of a process by source.
	sources := func(pid int) (map[string]float64, error) {
		got := map[string]float64{}
		res, err := apiQuery(api, fmt.Sprintf(`go_discovery_source_ratio{instance=%q}`, instance(pid)))
		if err != nil {
			return nil, err
		}
		for _, s := range res {
			got[s.Metric["go_scrape_source"]] = s.value
		}
		if len(got) == 0 {
			return nil, errNoData
		}
		return got, nil
	}
	for _, tc := range []struct {
		name string
		pid  int
		want map[string]float64
		// has and hasNot are series expected for the process, or not.
		has, hasNot []string
	}{
		{
			"expvar only", expvarOnly.cmd.Process.Pid,
			map[string]float64{"expvar": 1, "prometheus": 0, "goroutines": 0},
			[]string{"go_memory_gc_cycles_total", "go_memory_allocated_bytes_total", "process_memory_usage_bytes"},
			[]string{"go_goroutine_count"},
		},
		{
			"/metrics only", metricsOnly.cmd.Process.Pid,
			map[string]float64{"expvar": 0, "prometheus": 1, "goroutines": 0},
			[]string{"go_goroutine_state_count", "go_goroutine_count", "process_thread_count"},
			[]string{"go_memory_gc_cycle_pauses_lost_total"},
		},
		{
			"no endpoint", silent.cmd.Process.Pid,
			map[string]float64{"expvar": 0, "prometheus": 0, "goroutines": 0},
			[]string{"process_cpu_time_seconds_total", "process_memory_usage_bytes", "process_thread_count", "process_unix_file_descriptor_count"},
			[]string{"go_goroutine_count", "go_scrape_up_ratio"},
		},
	} {
		var got map[string]float64
		waitFor(t, 30*time.Second, tc.name+": discovered", func() (err error) {
			got, err = sources(tc.pid)
			if err == nil && len(got) < 3 {
				return fmt.Errorf("sources %v", got)
			}
			return err
		})
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: go_discovery_source_ratio{go_scrape_source=%q} = %v, want %v (all: %v)", tc.name, k, got[k], v, got)
			}
		}
		waitFor(t, 15*time.Second, tc.name+": metrics", func() error {
			for _, m := range tc.has {
				res, err := apiQuery(api, fmt.Sprintf(`%s{instance=%q}`, m, instance(tc.pid)))
				if err != nil {
					return err
				}
				if len(res) == 0 {
					return fmt.Errorf("no %s", m)
				}
			}
			return nil
		})
		for _, m := range tc.hasNot {
			if res, err := apiQuery(api, fmt.Sprintf(`%s{instance=%q}`, m, instance(tc.pid))); err != nil || len(res) != 0 {
				t.Errorf("%s: %s = %v (%v), want none", tc.name, m, res, err)
			}
		}
	}
	// The process's identity is on its target_info.
	info, err := apiQuery(api, fmt.Sprintf(`target_info{instance=%q}`, instance(metricsOnly.cmd.Process.Pid)))
	if err != nil || len(info) != 1 {
		t.Fatalf("target_info of the /metrics-only demo: %v %v", info, err)
	}
	for k, want := range map[string]string{
		"job": "otelcol-goruntime", "process_pid": strconv.Itoa(metricsOnly.cmd.Process.Pid), "process_executable_name": "demoservice",
		"process_runtime_name": "go", "go_module_path": "github.com/otelcol-goruntime/otelcol-goruntime", "host_name": "e2e-host",
		"url_full": "http://" + metricsOnly.addr, "process_owner": "root",
	} {
		if got := info[0].Metric[k]; got != want && (k != "process_owner" || got == "") {
			t.Errorf("target_info %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(info[0].Metric["process_runtime_version"], "go1.") {
		t.Errorf("process_runtime_version = %q", info[0].Metric["process_runtime_version"])
	}

	// Neither the non-Go process nor the collector itself is discovered.
	for name, pid := range map[string]int{"perl": perl.Process.Pid} {
		if res, err := apiQuery(api, fmt.Sprintf(`{process_pid=%q}`, strconv.Itoa(pid))); err != nil || len(res) != 0 {
			t.Errorf("%s (pid %d) was reported: %v %v", name, pid, res, err)
		}
	}
	if res, err := apiQuery(api, fmt.Sprintf(`target_info{process_pid="%d"}`, c.cmd.Process.Pid)); err != nil || len(res) != 1 || res[0].Metric["host_name"] != "" {
		t.Errorf("the collector is reported once, by its self source (no host_name): %v %v", res, err)
	}

	// A service that exits stops being reported: its series end.
	expvarOnly.stop()
	waitFor(t, 15*time.Second, "exited service's series ended", func() error {
		res, err := apiQuery(api, fmt.Sprintf(`go_discovery_source_ratio{instance=%q}`, instance(expvarOnly.cmd.Process.Pid)))
		if err != nil {
			return err
		}
		if len(res) != 0 {
			return fmt.Errorf("still %d series", len(res))
		}
		return nil
	})

	// A new one is picked up within one discovery interval (2 s) and one
	// collection interval (1 s).
	started := time.Now()
	late := startDemo(t, "-listen", "127.0.0.1:0", "-metrics-only")
	waitFor(t, 15*time.Second, "new service discovered", func() error {
		res, err := apiQuery(api, fmt.Sprintf(`go_goroutine_count{instance=%q}`, instance(late.cmd.Process.Pid)))
		if err != nil {
			return err
		}
		if len(res) == 0 {
			return errNoData
		}
		return nil
	})
	// The first sample's own timestamp, not when this test saw it.
	first := math.Inf(1)
	for _, s := range query[matrixSeries](t, api, fmt.Sprintf(`go_goroutine_count{instance=%q}[1m]`, instance(late.cmd.Process.Pid)), nil) {
		for _, p := range s.Values {
			first = math.Min(first, p[0].(float64))
		}
	}
	took := time.Duration((first - float64(started.UnixNano())/1e9) * float64(time.Second))
	t.Logf("new service first sampled %s after it started", took)
	if took > 3*time.Second+time.Second {
		t.Errorf("the new service was first sampled %s after it started, want within one discovery and one collection interval (3 s)", took)
	}
}

// sample is one series of an instant query.
type sample struct {
	Metric map[string]string
	value  float64
}

// apiQuery runs an instant query, returning errors instead of failing.
func apiQuery(addr, q string) ([]sample, error) {
	data, err := apiGet(context.Background(), addr, "/api/v1/query", url.Values{"query": {q}})
	if err != nil {
		return nil, err
	}
	var d queryData[vectorSample]
	if err := jsonUnmarshal(data, &d); err != nil {
		return nil, err
	}
	out := make([]sample, 0, len(d.Result))
	for _, r := range d.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: value %v: %w", q, r.Value, err)
		}
		out = append(out, sample{Metric: r.Metric, value: v})
	}
	return out, nil
}
