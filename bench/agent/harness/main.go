// Command harness runs the agent benchmark: the same job (N client_golang
// targets with every runtime metric, scraped every second, remote-written
// into a local VictoriaMetrics) done by a reference collector built from
// upstream components and by otelcol-goruntime, one after the other on
// this machine, and reports each one's CPU, peak RSS, export failures and
// what reached the store. See docs/BENCHMARKS.md.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	targets                int
	warmup, measure        time.Duration
	ours, reference, vmBin string
	targetsBin             string
	namesDir               string
	scrapeOnly             bool
	expvar                 bool
	expvarReference        string
	rounds                 int
	only                   string
	profileDir             string
}

func main() {
	var o options
	flag.IntVar(&o.targets, "targets", 200, "scrape targets")
	flag.DurationVar(&o.warmup, "warmup", 20*time.Second, "time before measuring")
	flag.DurationVar(&o.measure, "measure", 60*time.Second, "measured time")
	flag.StringVar(&o.ours, "ours", "../../bin/otelcol-goruntime", "otelcol-goruntime binary")
	flag.StringVar(&o.reference, "reference", "bin/otelcol-reference", "reference collector binary")
	flag.StringVar(&o.targetsBin, "targets-bin", "bin/targets", "targets binary")
	flag.StringVar(&o.vmBin, "victoria-metrics", "victoria-metrics", "VictoriaMetrics binary (Debian package victoria-metrics)")
	flag.StringVar(&o.namesDir, "names-dir", "", "write each collector's stored metric names to DIR/<collector>.names")
	flag.BoolVar(&o.expvar, "expvar", false, "with -scrape-only: expvar targets, against contrib's expvar receiver")
	flag.StringVar(&o.expvarReference, "expvar-reference", "../expvarref/bin/otelcol-expvar-reference", "reference collector with contrib's expvar receiver")
	flag.BoolVar(&o.scrapeOnly, "scrape-only", false, "compare the scrape alone: both collectors export to the debug exporter (basic verbosity), no store")
	flag.IntVar(&o.rounds, "rounds", 5, "with -expvar: measured windows of -measure each, one after another, collectors running throughout")
	flag.StringVar(&o.only, "only", "", "run only the collectors whose name starts with this (e.g. otelcol-goruntime-all)")
	flag.StringVar(&o.profileDir, "profile", "", "otelcol-goruntime only: save a CPU profile of the measured window and a heap profile at its end to DIR (pprof extension)")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// result is one collector's run.
type result struct {
	name         string
	cpuCores     float64
	peakRSSMiB   float64
	sentPoints   float64
	failedPoints float64
	rowsInserted float64
	series       float64
	names        float64
	info         map[string]float64
}

func run(o options) error {
	tg := exec.Command(o.targetsBin, "-n", strconv.Itoa(o.targets), "-expvar="+strconv.FormatBool(o.expvar))
	out, err := tg.StdoutPipe()
	if err != nil {
		return err
	}
	if err := tg.Start(); err != nil {
		return fmt.Errorf("targets: %w", err)
	}
	defer func() { _ = tg.Process.Kill(); _ = tg.Wait() }()
	var addrs []string
	for s := bufio.NewScanner(out); s.Scan() && s.Text() != "ready"; {
		addrs = append(addrs, s.Text())
	}
	if len(addrs) != o.targets {
		return fmt.Errorf("targets: %d addresses, want %d", len(addrs), o.targets)
	}

	if o.scrapeOnly && o.expvar {
		return scrapeOnlyExpvar(o, addrs)
	}
	if o.scrapeOnly {
		return scrapeOnly(o, addrs)
	}
	var results []result
	for _, c := range []struct {
		name, bin string
		config    func(vm, telemetry string) string
		info      map[string]string
	}{
		{"reference (contrib prometheus receiver + prometheusremotewrite)", o.reference, func(vm, tel string) string { return referenceConfig(addrs, vm, tel) }, referenceInfo},
		{"otelcol-goruntime (go_runtime + tsdb remote write)", o.ours, func(vm, tel string) string { return oursConfig(addrs, vm, tel, false) }, oursInfo},
		{"otelcol-goruntime-all (the same, passing on every go_* family outside the model)", o.ours, func(vm, tel string) string { return oursConfig(addrs, vm, tel, true) }, oursInfo},
	} {
		if o.only != "" && strings.Fields(c.name)[0] != o.only {
			continue
		}
		r, err := measure(o, c.name, c.bin, c.config, c.info)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		results = append(results, r)
	}
	report(o, results)
	return nil
}

// Runtime information per target, by PromQL over what reached the store:
// each query counts the targets that have it.
var (
	referenceInfo = map[string]string{
		"goroutines":          `count(count by (instance) (go_goroutines))`,
		"goroutines by state": `count(count by (instance) (go_sched_goroutines_running_goroutines))`,
		"heap objects bytes":  `count(count by (instance) (go_memstats_heap_alloc_bytes))`,
		"GC cycles":           `count(count by (instance) ({__name__=~"go_gc_cycles(_total)?_gc_cycles(_total)?"}))`,
		"GC pause histogram":  `count(count by (instance) (go_sched_pauses_total_gc_seconds_bucket))`,
		"scheduler latency":   `count(count by (instance) (go_sched_latencies_seconds_bucket))`,
		"process CPU":         `count(count by (instance) ({__name__=~"process_cpu_seconds(_total)*"}))`,
		"live heap":           `count(count by (instance) (go_gc_heap_live_bytes))`,
		"mutex wait time":     `count(count by (instance) ({__name__=~"go_sync_mutex_wait(_total)?_seconds_total"}))`,
		"OS threads":          `count(count by (instance) (go_sched_threads_total_threads))`,
	}
	oursInfo = map[string]string{
		"goroutines":          `count(count by (instance) (go_goroutine_count))`,
		"goroutines by state": `count(count by (instance) (go_goroutine_state_count))`,
		"heap objects bytes":  `count(count by (instance) (go_memory_class_used_bytes{go_memory_class="heap.objects"}))`,
		"GC cycles":           `count(count by (instance) (go_memory_gc_cycles_total))`,
		"GC pause histogram":  `count(count by (instance) (go_memory_gc_pause_duration_seconds_bucket))`,
		"scheduler latency":   `count(count by (instance) (go_schedule_duration_seconds_bucket))`,
		"process CPU":         `count(count by (instance) (process_cpu_time_seconds_total))`,
		"live heap":           `count(count by (instance) (go_memory_heap_live_bytes))`,
		"mutex wait time":     `count(count by (instance) (go_sync_mutex_wait_time_seconds_total))`,
		"OS threads":          `count(count by (instance) (go_thread_count))`,
	}
)

func measure(o options, name, bin string, config func(vm, telemetry string) string, info map[string]string) (result, error) {
	r := result{name: name, info: map[string]float64{}}
	dir, err := os.MkdirTemp("", "agent-bench")
	if err != nil {
		return r, err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	vmAddr := freeAddr()
	vm := exec.Command(o.vmBin, "-httpListenAddr="+vmAddr, "-storageDataPath="+filepath.Join(dir, "vm"), "-retentionPeriod=1d", "-search.latencyOffset=1s")
	vm.Stdout, vm.Stderr = io.Discard, io.Discard
	if err := vm.Start(); err != nil {
		return r, fmt.Errorf("victoria-metrics: %w (install: apt-get install -y victoria-metrics)", err)
	}
	defer func() { _ = vm.Process.Signal(syscall.SIGTERM); _ = vm.Wait() }()
	if err := waitHTTP("http://"+vmAddr+"/health", 30*time.Second); err != nil {
		return r, err
	}

	telemetry := freeAddr()
	cfg := filepath.Join(dir, "config.yaml")
	conf := config(vmAddr, telemetry)
	profiling := o.profileDir != "" && bin == o.ours
	pprofAddr := freeAddr()
	if profiling {
		conf = strings.Replace(conf, "service:\n", "extensions:\n  pprof:\n    endpoint: "+pprofAddr+"\nservice:\n  extensions: [pprof]\n", 1)
	}
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return r, err
	}
	col := exec.Command(bin, "--config", cfg)
	logFile, err := os.Create(filepath.Join(dir, "collector.log"))
	if err != nil {
		return r, err
	}
	col.Stdout, col.Stderr = logFile, logFile
	if err := col.Start(); err != nil {
		return r, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = col.Process.Kill()
			_ = col.Wait()
		}
	}()
	log.Printf("%s: warming up %s", name, o.warmup)
	time.Sleep(o.warmup)
	startCPU, err := cpuTicks(col.Process.Pid)
	if err != nil {
		return r, fmt.Errorf("the collector exited: %w", err)
	}
	startRows, _ := vmMetric(vmAddr, `vm_rows_inserted_total{type="promremotewrite"}`)
	startSent, startFailed := exportCounters(telemetry)
	log.Printf("%s: measuring %s", name, o.measure)
	var profiled chan error
	if profiling {
		profiled = make(chan error, 1)
		secs := max(int(o.measure.Seconds())-2, 1)
		go func() {
			profiled <- fetchTo(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs),
				filepath.Join(o.profileDir, strings.Fields(name)[0]+".cpu.pprof"))
		}()
	}
	time.Sleep(o.measure)
	if profiling {
		if err := <-profiled; err != nil {
			return r, err
		}
		if err := fetchTo("http://"+pprofAddr+"/debug/pprof/heap", filepath.Join(o.profileDir, strings.Fields(name)[0]+".heap.pprof")); err != nil {
			return r, err
		}
	}
	endCPU, err := cpuTicks(col.Process.Pid)
	if err != nil {
		return r, err
	}
	endRows, _ := vmMetric(vmAddr, `vm_rows_inserted_total{type="promremotewrite"}`)
	endSent, endFailed := exportCounters(telemetry)
	r.cpuCores = float64(endCPU-startCPU) / 100 / o.measure.Seconds()
	r.peakRSSMiB, err = peakRSS(col.Process.Pid)
	if err != nil {
		return r, err
	}
	r.sentPoints = (endSent - startSent) / o.measure.Seconds()
	r.failedPoints = endFailed - startFailed
	r.rowsInserted = (endRows - startRows) / o.measure.Seconds()

	// Read the store while the collector runs: a stopping collector may
	// end its series with staleness markers.
	_, _ = http.Get("http://" + vmAddr + "/internal/force_flush") //nolint:noctx,gosec // local peer
	time.Sleep(2 * time.Second)
	r.series, _ = vmQuery(vmAddr, `count({__name__!=""})`)
	r.names, _ = vmQuery(vmAddr, `count(count by (__name__) ({__name__!=""}))`)
	for k, q := range info {
		r.info[k], _ = vmQuery(vmAddr, q)
	}
	if o.namesDir != "" {
		if err := saveNames(vmAddr, filepath.Join(o.namesDir, strings.Fields(name)[0]+".names")); err != nil {
			return r, err
		}
	}
	_ = col.Process.Signal(syscall.SIGTERM)
	_ = col.Wait()
	stopped = true
	return r, nil
}

func report(o options, rs []result) {
	if len(rs) == 0 {
		return
	}
	ref := rs[0]
	fmt.Printf("\n%d targets, 1 s interval, %s measured after %s warm-up\n\n", o.targets, o.measure, o.warmup)
	fmt.Println("| collector | CPU (cores) | peak RSS (MiB) | points sent/s | store rows/s | export failures | series in store | metric names |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %.3f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", r.name, r.cpuCores, r.peakRSSMiB, r.sentPoints, r.rowsInserted, r.failedPoints, r.series, r.names)
	}
	if len(rs) < 3 { // -only: no ratios
		return
	}
	fmt.Println()
	for _, r := range rs[1:] {
		fmt.Printf("%s / reference: CPU %.2fx, peak RSS %.2fx (budget: at most 0.50x each)\n", strings.Fields(r.name)[0], r.cpuCores/ref.cpuCores, r.peakRSSMiB/ref.peakRSSMiB)
	}
	fmt.Println("\n| runtime information (targets that have it) | reference | otelcol-goruntime | otelcol-goruntime-all |")
	fmt.Println("|---|---|---|---|")
	for _, k := range []string{"goroutines", "goroutines by state", "heap objects bytes", "GC cycles", "GC pause histogram", "scheduler latency", "process CPU", "live heap", "mutex wait time", "OS threads"} {
		fmt.Printf("| %s | %.0f | %.0f | %.0f |\n", k, ref.info[k], rs[1].info[k], rs[2].info[k])
	}
}

// Parts of the collector configs. Every pipeline is receivers ->
// processors -> one exporter, with the collector's own metrics pulled on
// the telemetry address.
const (
	limiterAndBatch = "memory_limiter, batch"
	batchOnly       = "batch"
	debugExporter   = "  debug:\n    verbosity: basic\n"
)

// collectorConfig assembles a config from receiver and exporter blocks
// (YAML under their keys) and the IDs the pipeline names.
func collectorConfig(receivers, receiverIDs, processorIDs, exporters, exporterID, telemetry string) string {
	host, port, _ := net.SplitHostPort(telemetry)
	processors := "  batch:\n    timeout: 1s\n    send_batch_size: 8192\n"
	if strings.Contains(processorIDs, "memory_limiter") {
		processors = "  memory_limiter:\n    check_interval: 1s\n    limit_mib: 1024\n" + processors
	}
	return fmt.Sprintf(`receivers:
%sprocessors:
%sexporters:
%sservice:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: %s
                port: %s
  pipelines:
    metrics:
      receivers: [%s]
      processors: [%s]
      exporters: [%s]
`, receivers, processors, exporters, host, port, receiverIDs, processorIDs, exporterID)
}

// referenceReceiver is contrib's prometheus receiver on every target;
// compressed false sets enable_compression: false.
func referenceReceiver(addrs []string, compressed bool) string {
	quoted := make([]string, len(addrs))
	for i, a := range addrs {
		quoted[i] = strconv.Quote(a)
	}
	extra := ""
	if !compressed {
		extra = "          enable_compression: false\n"
	}
	return fmt.Sprintf(`  prometheus:
    config:
      scrape_configs:
        - job_name: go
          scrape_interval: 1s
          scrape_timeout: 1s
%s          static_configs:
            - targets: [%s]
`, extra, strings.Join(quoted, ", "))
}

// oursReceiver is go_runtime on every target's /metrics; all passes on
// every go_* family outside the model too.
func oursReceiver(addrs []string, all bool) string {
	var targets strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&targets, "      - endpoint: http://%s\n        sources: [prometheus]\n", a)
		if all {
			targets.WriteString("        prometheus:\n          include: [\"go_.*\"]\n")
		}
	}
	return "  go_runtime:\n    collection_interval: 1s\n    self:\n      enabled: false\n    targets:\n" + targets.String()
}

func referenceConfig(addrs []string, vm, telemetry string) string {
	exporter := fmt.Sprintf("  prometheusremotewrite:\n    endpoint: http://%s/api/v1/write\n    timeout: 5s\n", vm)
	return collectorConfig(referenceReceiver(addrs, true), "prometheus", limiterAndBatch, exporter, "prometheusremotewrite", telemetry)
}

func oursConfig(addrs []string, vm, telemetry string, all bool) string {
	exporter := fmt.Sprintf("  tsdb:\n    remote_write:\n      http:\n        endpoint: http://%s/api/v1/write\n        timeout: 5s\n      native_histograms: false\n", vm)
	return collectorConfig(oursReceiver(addrs, all), "go_runtime", limiterAndBatch, exporter, "tsdb", telemetry)
}

// fetchTo saves what GET u answers to path.
func fetchTo(u, path string) error {
	resp, err := http.Get(u) //nolint:noctx,gosec // local peer
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

func waitHTTP(u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u) //nolint:noctx,gosec // local peer
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s: not up within %s", u, within)
}

// cpuTicks is a process's user plus system time in clock ticks.
func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	return u + s, errors.Join(err1, err2)
}

// peakRSS is a process's peak resident set (VmHWM) in MiB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmHWM")
}

// promSum reads a Prometheus text exposition and sums the samples whose
// line starts with prefix.
func promSum(u, prefix string) float64 {
	resp, err := http.Get(u) //nolint:noctx,gosec // local peer
	if err != nil {
		return 0
	}
	defer func() { _ = resp.Body.Close() }()
	sum := 0.0
	for s := bufio.NewScanner(resp.Body); s.Scan(); {
		line := s.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

func vmMetric(addr, prefix string) (float64, error) {
	return promSum("http://"+addr+"/metrics", prefix), nil
}

// exportCounters reads the collector's own counts of points sent and
// points that failed to send.
func exportCounters(telemetry string) (sent, failed float64) {
	u := "http://" + telemetry + "/metrics"
	return promSum(u, "otelcol_exporter_sent_metric_points"), promSum(u, "otelcol_exporter_send_failed_metric_points")
}

func vmQuery(addr, q string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/query?" + url.Values{"query": {q}}.Encode()) //nolint:noctx,gosec // local peer
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if len(r.Data.Result) == 0 {
		return 0, nil
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// saveNames writes the metric names in the store, one per line.
func saveNames(addr, file string) error {
	resp, err := http.Get("http://" + addr + "/api/v1/label/__name__/values") //nolint:noctx,gosec // local peer
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Data []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(strings.Join(r.Data, "\n")+"\n"), 0o644) //nolint:gosec // a report
}

// scrapeOnly runs the reference and ours on the same targets with the
// debug exporter (basic verbosity: one log line per batch), so that the
// CPU and memory measured are the scrape's, parse and conversion included,
// and not the store's or the remote write's.
func scrapeOnly(o options, addrs []string) error {
	var rs []result
	for _, c := range []struct {
		name, bin string
		config    func(telemetry string) string
	}{
		{"reference (contrib prometheus receiver)", o.reference, func(tel string) string {
			return collectorConfig(referenceReceiver(addrs, true), "prometheus", limiterAndBatch, debugExporter, "debug", tel)
		}},
		{"otelcol-goruntime (go_runtime)", o.ours, func(tel string) string {
			return collectorConfig(oursReceiver(addrs, false), "go_runtime", limiterAndBatch, debugExporter, "debug", tel)
		}},
		{"reference, enable_compression: false", o.reference, func(tel string) string {
			return collectorConfig(referenceReceiver(addrs, false), "prometheus", limiterAndBatch, debugExporter, "debug", tel)
		}},
	} {
		r, err := measureProcess(o, c.name, c.bin, c.config)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		rs = append(rs, r)
	}
	fmt.Printf("\n%d targets, 1 s interval, scrape only (debug exporter), %s measured after %s warm-up\n\n", o.targets, o.measure, o.warmup)
	fmt.Println("| collector | CPU (cores) | CPU per target-scrape | peak RSS (MiB) | points received/s |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %.3f | %.0f µs | %.0f | %.0f |\n", r.name, r.cpuCores, r.cpuCores*1e6/float64(o.targets), r.peakRSSMiB, r.sentPoints)
	}
	fmt.Printf("\nours / reference: CPU %.2fx, peak RSS %.2fx\n", rs[1].cpuCores/rs[0].cpuCores, rs[1].peakRSSMiB/rs[0].peakRSSMiB)
	fmt.Printf("ours / reference without compression: CPU %.2fx, peak RSS %.2fx\n", rs[1].cpuCores/rs[2].cpuCores, rs[1].peakRSSMiB/rs[2].peakRSSMiB)
	return nil
}

// measureProcess runs one collector with the config made for its
// telemetry address and measures its CPU, peak RSS and points received.
func measureProcess(o options, name, bin string, config func(telemetry string) string) (result, error) {
	r := result{name: name}
	dir, err := os.MkdirTemp("", "agent-bench")
	if err != nil {
		return r, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	telemetry := freeAddr()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config(telemetry)), 0o600); err != nil {
		return r, err
	}
	col := exec.Command(bin, "--config", path)
	col.Stdout, col.Stderr = io.Discard, io.Discard
	if err := col.Start(); err != nil {
		return r, err
	}
	defer func() { _ = col.Process.Signal(syscall.SIGTERM); _ = col.Wait() }()
	log.Printf("%s: warming up %s", name, o.warmup)
	time.Sleep(o.warmup)
	startCPU, err := cpuTicks(col.Process.Pid)
	if err != nil {
		return r, fmt.Errorf("the collector exited: %w", err)
	}
	u := "http://" + telemetry + "/metrics"
	startPoints := promSum(u, "otelcol_receiver_accepted_metric_points")
	log.Printf("%s: measuring %s", name, o.measure)
	time.Sleep(o.measure)
	endCPU, err := cpuTicks(col.Process.Pid)
	if err != nil {
		return r, err
	}
	r.sentPoints = (promSum(u, "otelcol_receiver_accepted_metric_points") - startPoints) / o.measure.Seconds()
	r.cpuCores = float64(endCPU-startCPU) / 100 / o.measure.Seconds()
	r.peakRSSMiB, err = peakRSS(col.Process.Pid)
	return r, err
}

// scrapeOnlyExpvar compares the expvar scrape: contrib's expvar receiver
// (one receiver per target, as it takes one endpoint) against go_runtime
// with sources: [expvar], both into the debug exporter.
func scrapeOnlyExpvar(o options, addrs []string) error {
	reference := func(tel string) string {
		var recv, ids strings.Builder
		for i, a := range addrs {
			fmt.Fprintf(&recv, "  expvar/%d:\n    endpoint: http://%s/debug/vars\n    collection_interval: 1s\n", i, a)
			if i > 0 {
				ids.WriteString(", ")
			}
			fmt.Fprintf(&ids, "expvar/%d", i)
		}
		// The v0.145 reference has no memory_limiter: batch on both sides.
		return collectorConfig(recv.String(), ids.String(), batchOnly, debugExporter, "debug", tel)
	}
	ours := func(tel string) string {
		var t strings.Builder
		for _, a := range addrs {
			fmt.Fprintf(&t, "      - endpoint: http://%s\n        sources: [expvar]\n", a)
		}
		return collectorConfig("  go_runtime:\n    collection_interval: 1s\n    self:\n      enabled: false\n    targets:\n"+t.String(),
			"go_runtime", batchOnly, debugExporter, "debug", tel)
	}
	// Both run at once over the same window: each costs a few hundredths
	// of a core, and side by side the machine's drift between two
	// sequential windows (as large as the difference sought) hits both.
	rounds, err := measureTogether(o, []collectorSpec{
		{"reference (contrib expvar receiver v0.145.0)", o.expvarReference, reference},
		{"otelcol-goruntime (go_runtime, expvar)", o.ours, ours},
	})
	if err != nil {
		return err
	}
	fmt.Printf("\n%d expvar targets, 1 s interval, scrape only (debug exporter), both collectors at once, %d windows of %s after %s warm-up\n\n",
		o.targets, len(rounds), o.measure, o.warmup)
	fmt.Println("| window | reference CPU per target-scrape | go_runtime CPU per target-scrape | ratio |")
	fmt.Println("|---|---|---|---|")
	ratios := make([]float64, len(rounds))
	var sumRef, sumOurs float64
	for i, rs := range rounds {
		ratios[i] = rs[1].cpuCores / rs[0].cpuCores
		sumRef += rs[0].cpuCores
		sumOurs += rs[1].cpuCores
		fmt.Printf("| %d | %.0f µs | %.0f µs | %.2fx |\n", i+1, rs[0].cpuCores*1e6/float64(o.targets), rs[1].cpuCores*1e6/float64(o.targets), ratios[i])
	}
	sort.Float64s(ratios)
	last := rounds[len(rounds)-1]
	fmt.Printf("\n| collector | CPU (cores, all windows) | CPU per target-scrape | peak RSS (MiB) | points received/s |\n|---|---|---|---|---|\n")
	for i, total := range []float64{sumRef, sumOurs} {
		cores := total / float64(len(rounds))
		fmt.Printf("| %s | %.3f | %.0f µs | %.0f | %.0f |\n", last[i].name, cores, cores*1e6/float64(o.targets), last[i].peakRSSMiB, last[i].sentPoints)
	}
	fmt.Printf("\nours / reference: CPU %.2fx over all windows (median window %.2fx, range %.2fx-%.2fx), peak RSS %.2fx\n",
		sumOurs/sumRef, ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1], last[1].peakRSSMiB/last[0].peakRSSMiB)
	return nil
}

// collectorSpec is one collector to measure: its name, binary and the
// config made for its telemetry address.
type collectorSpec struct {
	name, bin string
	config    func(telemetry string) string
}

// measureTogether runs the collectors at the same time and measures each
// one's CPU, peak RSS and points received over the same windows, o.rounds
// of them one after another: one []result per window.
func measureTogether(o options, specs []collectorSpec) ([][]result, error) {
	dir, err := os.MkdirTemp("", "agent-bench")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	type running struct {
		cmd *exec.Cmd
		url string
	}
	var procs []running
	defer func() {
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			_ = p.cmd.Wait()
		}
	}()
	for i, c := range specs {
		telemetry := freeAddr()
		path := filepath.Join(dir, fmt.Sprintf("config-%d.yaml", i))
		if err := os.WriteFile(path, []byte(c.config(telemetry)), 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command(c.bin, "--config", path)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		procs = append(procs, running{cmd, "http://" + telemetry + "/metrics"})
	}
	log.Printf("%d collectors at once: warming up %s", len(specs), o.warmup)
	time.Sleep(o.warmup)
	sample := func() ([]uint64, []float64, error) {
		cpu := make([]uint64, len(procs))
		points := make([]float64, len(procs))
		for i, p := range procs {
			var err error
			if cpu[i], err = cpuTicks(p.cmd.Process.Pid); err != nil {
				return nil, nil, fmt.Errorf("%s exited: %w", specs[i].name, err)
			}
			points[i] = promSum(p.url, "otelcol_receiver_accepted_metric_points")
		}
		return cpu, points, nil
	}
	startCPU, startPoints, err := sample()
	if err != nil {
		return nil, err
	}
	var rounds [][]result
	for round := range max(o.rounds, 1) {
		log.Printf("measuring window %d: %s", round+1, o.measure)
		time.Sleep(o.measure)
		endCPU, endPoints, err := sample()
		if err != nil {
			return nil, err
		}
		rs := make([]result, len(procs))
		for i, p := range procs {
			rs[i] = result{
				name:       specs[i].name,
				cpuCores:   float64(endCPU[i]-startCPU[i]) / 100 / o.measure.Seconds(),
				sentPoints: (endPoints[i] - startPoints[i]) / o.measure.Seconds(),
			}
			if rs[i].peakRSSMiB, err = peakRSS(p.cmd.Process.Pid); err != nil {
				return nil, err
			}
		}
		rounds = append(rounds, rs)
		startCPU, startPoints = endCPU, endPoints
	}
	return rounds, nil
}
