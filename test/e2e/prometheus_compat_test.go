package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// compatExpressions are compared between our API and a real Prometheus on
// the same data. Left out, with the reason:
//   - holt_winters / double_exponential_smoothing: renamed in Prometheus 3
//     and behind a feature flag there;
//   - histogram_avg, histogram_stddev, histogram_stdvar, info(), sort_by_label:
//     not in Prometheus 2.42;
//   - native-histogram arithmetic beyond rate/sum/quantile/count/sum/fraction:
//     experimental in 2.42 and changed since.
//
// One expression is compared with a looser tolerance, see withinBucket.
var compatExpressions = []string{
	// Selectors, offsets, @.
	`test_gauge`,
	`test_gauge{pod="a"}`,
	`test_gauge{pod=~"a|b"}`,
	`test_gauge{pod!="a"}`,
	`test_gauge offset 2m`,
	`test_gauge @ end()`,
	`test_gauge[2m]`,
	`test_requests_total`,
	`{__name__=~"test_.*", pod="b"}`,
	// Counters.
	`rate(test_requests_total[5m])`,
	`irate(test_requests_total[5m])`,
	`increase(test_requests_total[5m])`,
	`resets(test_requests_total[10m])`,
	`sum by (code) (rate(test_requests_total[5m]))`,
	`sum(rate(test_requests_total[5m])) by (pod) / ignoring(code) group_left sum(rate(test_requests_total[5m])) by (pod)`,
	// Gauges over time.
	`delta(test_gauge[5m])`,
	`idelta(test_gauge[5m])`,
	`deriv(test_gauge[5m])`,
	`predict_linear(test_gauge[5m], 600)`,
	`changes(test_gauge[5m])`,
	`avg_over_time(test_gauge[5m])`,
	`min_over_time(test_gauge[5m])`,
	`max_over_time(test_gauge[5m])`,
	`sum_over_time(test_gauge[5m])`,
	`count_over_time(test_gauge[5m])`,
	`stddev_over_time(test_gauge[5m])`,
	`quantile_over_time(0.9, test_gauge[5m])`,
	`last_over_time(test_gauge[5m])`,
	`present_over_time(test_gauge[5m])`,
	`absent_over_time(nonexistent[5m])`,
	// Aggregations.
	`sum(test_gauge)`,
	`avg by (pod) (test_gauge)`,
	`max without (pod) (test_gauge)`,
	`count(test_gauge)`,
	`stddev(test_gauge)`,
	`quantile(0.5, test_gauge)`,
	`topk(2, test_gauge)`,
	`bottomk(1, test_gauge)`,
	`count_values("value", round(test_gauge))`,
	`group by (pod) (test_gauge)`,
	// Functions and operators.
	`label_replace(test_gauge, "pod_name", "pod-$1", "pod", "(.*)")`,
	`label_join(test_gauge, "both", "/", "pod", "tenant")`,
	`abs(test_gauge - 50)`,
	`clamp(test_gauge, 20, 60)`,
	`round(test_gauge, 0.5)`,
	`ln(test_gauge + 1)`,
	`test_gauge > 40`,
	`test_gauge > bool 40`,
	`test_gauge{pod="a"} + on(tenant) test_gauge{pod="b"}`,
	`test_gauge and on(pod) test_gauge > 30`,
	`test_gauge unless test_gauge{pod="a"}`,
	`vector(1) or test_gauge`,
	`scalar(sum(test_gauge)) * 2`,
	`timestamp(test_gauge)`,
	`absent(nonexistent)`,
	`sort_desc(test_gauge)`,
	// Subqueries.
	`max_over_time(rate(test_requests_total[2m])[10m:1m])`,
	`avg_over_time(test_gauge[10m:30s] offset 1m)`,
	// Classic histograms.
	`histogram_quantile(0.9, sum by (le) (rate(test_latency_seconds_bucket[5m])))`,
	`histogram_quantile(0.5, rate(test_latency_seconds_bucket[5m]))`,
	`rate(test_latency_seconds_sum[5m]) / rate(test_latency_seconds_count[5m])`,
	// Summaries.
	`test_summary_seconds{quantile="0.99"}`,
	`test_summary_seconds_count`,
	// Native histograms.
	`test_size_bytes`,
	`histogram_quantile(0.9, rate(test_size_bytes[5m]))`,
	`histogram_count(rate(test_size_bytes[5m]))`,
	`histogram_sum(rate(test_size_bytes[5m]))`,
	`histogram_fraction(0, 1000, rate(test_size_bytes[5m]))`,
	`sum(rate(test_size_bytes[5m]))`,
	// target_info, joined as Prometheus' OTel guide does.
	`test_gauge * on(job, instance) group_left(service_version) target_info`,
	// Errors: both must refuse with the same error type.
	`sum(`,
	`rate(test_gauge)`,
	`test_gauge + on() test_gauge`,
	`test_gauge[5m] + 1`,
}

// withinBucket lists expressions whose semantics changed between
// Prometheus 2.42 and 3: histogram_quantile on native histograms with
// exponential buckets interpolates on a logarithmic scale in Prometheus 3
// (linearly in 2.42), so the two agree only on the bucket the quantile falls
// in. For schema 2 a bucket spans a factor of 2^(1/4).
var withinBucket = map[string]float64{
	`histogram_quantile(0.9, rate(test_size_bytes[5m]))`: math.Pow(2, 0.25) - 1,
}

// TestQueryAPIMatchesPrometheus writes the same data into the collector's
// embedded store (as OTLP through the built binary) and into Debian's
// Prometheus 2.42 (the test's own remote-write client, with the series the
// same OTLP translation produces), then compares every expression above as
// instant queries at several times and as range queries.
func TestQueryAPIMatchesPrometheus(t *testing.T) {
	promBin := requireTool(t, "prometheus", "apt-get install -y prometheus")
	promAddr := startPrometheus(t, promBin)

	otlpAddr, apiAddr, telemetryAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	_, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	cfg := filepath.Join(t.TempDir(), "compat.yaml")
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
      exporters: [tsdb]
`, otlpAddr, filepath.Join(t.TempDir(), "tsdb"), apiAddr, telemetryPort))
	startCollector(t, cfg)
	waitFor(t, time.Minute, "query API answering", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})

	// 30 minutes of data, one sample every 15 s at x.5 s, so that no sample
	// sits on a range boundary of the evaluation times below (Prometheus 3
	// made range selectors left-open).
	base := time.Now().Add(-40 * time.Minute).Truncate(time.Minute).Add(500 * time.Millisecond)
	const steps = 120
	for i := range steps {
		md := compatData(base, i)
		if err := postOTLP(otlpAddr, "", md); err != nil {
			t.Fatalf("OTLP batch %d: %v", i, err)
		}
	}
	var series []*recordedSeries
	{
		app := newRecordingAppender()
		conv := prometheusremotewrite.NewPrometheusConverter(app)
		for i := range steps {
			if _, err := conv.FromMetrics(context.Background(), compatData(base, i), compatSettings()); err != nil {
				t.Fatalf("converting batch %d: %v", i, err)
			}
		}
		series = app.sorted()
	}
	remoteWrite(t, promAddr, series)

	evalTimes := []time.Time{base.Add(12*time.Minute + 250*time.Millisecond), base.Add(21*time.Minute + 7250*time.Millisecond), base.Add(29*time.Minute + 40*time.Second + 250*time.Millisecond)}
	// Wait until Prometheus has all the data (remote write is synchronous,
	// but be safe about its head commit).
	waitFor(t, 30*time.Second, "data in Prometheus", func() error {
		n, err := countSeries(promAddr)
		if err != nil || n != len(series) {
			return fmt.Errorf("%d series of %d (%w)", n, len(series), err)
		}
		return nil
	})
	if n, err := countSeries(apiAddr); err != nil || n != len(series) {
		t.Fatalf("our store has %d series (%v), Prometheus %d", n, err, len(series))
	}

	compared := 0
	for _, expr := range compatExpressions {
		for _, ts := range evalTimes {
			params := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64)}}
			compareAnswers(t, "instant "+expr+" @ "+params.Get("time"), promAddr, apiAddr, "/api/v1/query", params, withinBucket[expr])
			compared++
		}
		if strings.Contains(expr, "[2m]") || strings.HasPrefix(expr, "sum(") && strings.HasSuffix(expr, "(") {
			continue // range vectors and parse errors have no range query form
		}
		params := url.Values{
			"query": {expr},
			"start": {strconv.FormatFloat(float64(base.Add(6*time.Minute+250*time.Millisecond).UnixMilli())/1000, 'f', 3, 64)},
			"end":   {strconv.FormatFloat(float64(base.Add(29*time.Minute+250*time.Millisecond).UnixMilli())/1000, 'f', 3, 64)},
			"step":  {"37"},
		}
		compareAnswers(t, "range "+expr, promAddr, apiAddr, "/api/v1/query_range", params, withinBucket[expr])
		compared++
	}
	if len(compatExpressions) < 50 {
		t.Errorf("only %d expressions compared, want at least 50", len(compatExpressions))
	}
	t.Logf("%d expressions, %d answers compared with Prometheus", len(compatExpressions), compared)
}

func compatSettings() prometheusremotewrite.Settings {
	return prometheusremotewrite.Settings{
		AddMetricSuffixes:                    true,
		PromoteResourceAttributes:            prometheusremotewrite.NewPromoteResourceAttributes(config.OTLPConfig{PromoteResourceAttributes: []string{"tenant"}}),
		LabelNameUnderscoreSanitization:      true,
		LabelNamePreserveMultipleUnderscores: true,
	}
}

// compatData is step i of the test data: gauges, counters (one with a
// reset), a classic histogram, a summary and an exponential histogram.
func compatData(base time.Time, i int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ts := pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * 15 * time.Second))
	start := pcommon.NewTimestampFromTime(base.Add(-time.Minute))
	for pi, pod := range []string{"a", "b", "c"} {
		rm := md.ResourceMetrics().AppendEmpty()
		ra := rm.Resource().Attributes()
		ra.PutStr("service.name", "compat")
		ra.PutStr("service.instance.id", "pod-"+pod)
		ra.PutStr("service.version", "1.2."+strconv.Itoa(pi))
		ra.PutStr("tenant", "compat")
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		x := float64(i)

		g := ms.AppendEmpty()
		g.SetName("test.gauge")
		gdp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		gdp.SetTimestamp(ts)
		gdp.SetDoubleValue(50 + 30*math.Sin(x/7+float64(pi)) + float64(pi))
		gdp.Attributes().PutStr("pod", pod)

		c := ms.AppendEmpty()
		c.SetName("test.requests")
		sum := c.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for ci, code := range []string{"200", "500"} {
			dp := sum.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			v := x*x*float64(pi+1)/(float64(ci)*5+1) + x
			if pod == "b" && code == "200" && i >= 60 {
				v = (x - 60) * 3 // the process restarted
			}
			dp.SetDoubleValue(v)
			dp.Attributes().PutStr("pod", pod)
			dp.Attributes().PutStr("code", code)
		}

		h := ms.AppendEmpty()
		h.SetName("test.latency")
		h.SetUnit("s")
		hist := h.SetEmptyHistogram()
		hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		hdp := hist.DataPoints().AppendEmpty()
		hdp.SetStartTimestamp(start)
		hdp.SetTimestamp(ts)
		hdp.Attributes().PutStr("pod", pod)
		hdp.ExplicitBounds().FromRaw([]float64{0.01, 0.1, 0.5, 1, 5})
		counts := []uint64{uint64(i), uint64(3 * i), uint64(i * (pi + 1)), uint64(i / 2), uint64(i / 5), uint64(i / 10)}
		var n uint64
		for _, c := range counts {
			n += c
		}
		hdp.BucketCounts().FromRaw(counts)
		hdp.SetCount(n)
		hdp.SetSum(float64(n) * 0.3)

		s := ms.AppendEmpty()
		s.SetName("test.summary")
		s.SetUnit("s")
		sdp := s.SetEmptySummary().DataPoints().AppendEmpty()
		sdp.SetStartTimestamp(start)
		sdp.SetTimestamp(ts)
		sdp.Attributes().PutStr("pod", pod)
		sdp.SetCount(uint64(10 * i))
		sdp.SetSum(x * 1.5)
		for _, q := range []float64{0.5, 0.99} {
			qv := sdp.QuantileValues().AppendEmpty()
			qv.SetQuantile(q)
			qv.SetValue(q * (1 + math.Cos(x/5)))
		}

		e := ms.AppendEmpty()
		e.SetName("test.size")
		e.SetUnit("By")
		eh := e.SetEmptyExponentialHistogram()
		eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		edp := eh.DataPoints().AppendEmpty()
		edp.SetStartTimestamp(start)
		edp.SetTimestamp(ts)
		edp.Attributes().PutStr("pod", pod)
		edp.SetScale(2)
		edp.Positive().SetOffset(8)
		// Every bucket is non-empty from the first sample on, so the bucket
		// layout never changes: Prometheus 2.42 panics on some layout changes
		// (counterResetInAnyBucket), a bug fixed in later releases.
		bc := make([]uint64, 12)
		var en uint64
		for b := range bc {
			bc[b] = uint64(1 + i*((b+pi)%5))
			en += bc[b]
		}
		edp.Positive().BucketCounts().FromRaw(bc)
		edp.SetZeroCount(uint64(i))
		en += uint64(i)
		edp.SetCount(en)
		edp.SetSum(float64(en) * 40)
	}
	return md
}

// recordedSeries is one series the OTLP translation produced.
type recordedSeries struct {
	labels     labels.Labels
	samples    []prompb.Sample
	histograms []prompb.Histogram
}

// recordingAppender is a storage.AppenderV2 that keeps what it is given.
type recordingAppender struct {
	series map[string]*recordedSeries
}

func newRecordingAppender() *recordingAppender {
	return &recordingAppender{series: map[string]*recordedSeries{}}
}

func (a *recordingAppender) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ storage.AppendV2Options) (storage.SeriesRef, error) {
	s, ok := a.series[ls.String()]
	if !ok {
		s = &recordedSeries{labels: ls.Copy()}
		a.series[ls.String()] = s
	}
	switch {
	case h != nil:
		s.histograms = append(s.histograms, prompb.FromIntHistogram(t, h.Copy()))
	case fh != nil:
		s.histograms = append(s.histograms, prompb.FromFloatHistogram(t, fh.Copy()))
	default:
		if n := len(s.samples); n > 0 && s.samples[n-1].Timestamp == t {
			return 0, nil // target_info is appended once per batch and timestamp
		}
		s.samples = append(s.samples, prompb.Sample{Timestamp: t, Value: v})
	}
	return 0, nil
}

func (*recordingAppender) Commit() error   { return nil }
func (*recordingAppender) Rollback() error { return nil }

func (a *recordingAppender) sorted() []*recordedSeries {
	out := make([]*recordedSeries, 0, len(a.series))
	for _, s := range a.series {
		sort.Slice(s.samples, func(i, j int) bool { return s.samples[i].Timestamp < s.samples[j].Timestamp })
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].labels, out[j].labels) < 0 })
	return out
}

// remoteWrite sends the series to Prometheus with remote write 1.0.
func remoteWrite(t *testing.T, addr string, series []*recordedSeries) {
	t.Helper()
	req := &prompb.WriteRequest{}
	for _, s := range series {
		ts := prompb.TimeSeries{Samples: s.samples, Histograms: s.histograms}
		s.labels.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
		req.Timeseries = append(req.Timeseries, ts)
	}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	hr, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("remote write: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		t.Fatalf("remote write answered %d: %s", resp.StatusCode, b.String())
	}
}

// startPrometheus runs Debian's Prometheus with its remote-write receiver
// and native histograms on a free loopback port until the test ends.
func startPrometheus(t *testing.T, bin string) string {
	t.Helper()
	addr := freeAddr(t)
	startPrometheusAt(t, bin, addr, t.TempDir())
	return addr
}

// startPrometheusAt runs Prometheus on addr with its data in dir and
// returns a function that stops it (it is also stopped when the test ends).
// extraConfig is appended to its configuration file.
func startPrometheusAt(t *testing.T, bin, addr, dir string, extraConfig ...string) (stop func()) {
	t.Helper()
	cfg := filepath.Join(dir, "prometheus.yml")
	writeFile(t, cfg, "global:\n  scrape_interval: 1h\n"+strings.Join(extraConfig, ""))
	log, err := os.OpenFile(filepath.Join(dir, "prometheus.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver", "--enable-feature=native-histograms")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			_ = log.Close()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	waitFor(t, time.Minute, "prometheus ready", func() error {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return stop
}

func countSeries(addr string) (int, error) {
	data, err := apiGet(context.Background(), addr, "/api/v1/series", url.Values{"match[]": {`{__name__=~".+"}`}})
	if err != nil {
		return 0, err
	}
	var s []map[string]string
	if err := json.Unmarshal(data, &s); err != nil {
		return 0, err
	}
	return len(s), nil
}

// rawAnswer is an API answer, success or error.
type rawAnswer struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Data      json.RawMessage `json:"data"`
}

func fetch(t *testing.T, addr, path string, params url.Values) (int, rawAnswer) {
	t.Helper()
	resp, err := http.PostForm("http://"+addr+path, params)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var a rawAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, a
}

// compareAnswers asks both servers and compares status, error type and
// results, numbers within a relative tolerance (1e-9 unless tolerance is
// larger).
func compareAnswers(t *testing.T, what, promAddr, ourAddr, path string, params url.Values, tolerance float64) {
	t.Helper()
	pc, pa := fetch(t, promAddr, path, params)
	oc, oa := fetch(t, ourAddr, path, params)
	if pc != oc || pa.Status != oa.Status || pa.ErrorType != oa.ErrorType {
		t.Errorf("%s: Prometheus %d %s %s, ours %d %s %s", what, pc, pa.Status, pa.ErrorType, oc, oa.Status, oa.ErrorType)
		return
	}
	if pa.Status != "success" {
		return
	}
	want, got := normalise(t, pa.Data), normalise(t, oa.Data)
	if len(want) == 0 && !strings.Contains(what, "absent") && !strings.Contains(what, "nonexistent") {
		t.Errorf("%s: Prometheus returned nothing; the expression tests nothing", what)
	}
	if len(want) != len(got) {
		t.Errorf("%s: Prometheus %d series, ours %d\nprometheus: %v\nours:       %v", what, len(want), len(got), keys(want), keys(got))
		return
	}
	for k, wv := range want {
		gv, ok := got[k]
		if !ok {
			t.Errorf("%s: series %s missing from ours", what, k)
			continue
		}
		if len(wv) != len(gv) {
			t.Errorf("%s: %s: Prometheus %d values, ours %d", what, k, len(wv), len(gv))
			continue
		}
		for i := range wv {
			if !approxEqual(wv[i], gv[i], max(tolerance, 1e-9)) {
				t.Errorf("%s: %s: value %d: Prometheus %v, ours %v", what, k, i, wv[i], gv[i])
				break
			}
		}
	}
}

func keys(m map[string][]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func approxEqual(a, b, tolerance float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tolerance*math.Max(math.Abs(a), math.Abs(b))
}

// normalise flattens a query result into series (by labels) of numbers:
// timestamps and values of samples, and count, sum and bucket bounds and
// counts of histograms.
func normalise(t *testing.T, data json.RawMessage) map[string][]float64 {
	t.Helper()
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("result: %v", err)
	}
	out := map[string][]float64{}
	switch d.ResultType {
	case "scalar", "string":
		var p []any
		if err := json.Unmarshal(d.Result, &p); err != nil {
			t.Fatal(err)
		}
		out[""] = flatten(p)
	default:
		var series []map[string]json.RawMessage
		if err := json.Unmarshal(d.Result, &series); err != nil {
			t.Fatal(err)
		}
		for _, s := range series {
			var m map[string]string
			_ = json.Unmarshal(s["metric"], &m)
			ls := labels.FromMap(m)
			var nums []float64
			for _, field := range []string{"value", "values", "histogram", "histograms"} {
				if raw, ok := s[field]; ok {
					var v any
					_ = json.Unmarshal(raw, &v)
					nums = append(nums, flatten(v)...)
				}
			}
			out[ls.String()] = nums
		}
	}
	return out
}

// flatten turns a decoded JSON value into its numbers in order; strings
// holding numbers count as numbers.
func flatten(v any) []float64 {
	switch x := v.(type) {
	case float64:
		return []float64{x}
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return nil
		}
		return []float64{f}
	case []any:
		var out []float64
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	case map[string]any:
		var out []float64
		for _, k := range []string{"count", "sum", "buckets"} {
			if e, ok := x[k]; ok {
				out = append(out, flatten(e)...)
			}
		}
		return out
	}
	return nil
}
