package tsdbexporter

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/metadata"
)

// startVictoriaMetrics runs Debian's victoria-metrics for a benchmark.
func startVictoriaMetrics(b *testing.B) string {
	b.Helper()
	bin, err := exec.LookPath("victoria-metrics")
	if err != nil {
		b.Fatal("victoria-metrics is needed by this benchmark: run `apt-get install -y victoria-metrics`")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	addr := ln.Addr().String()
	require.NoError(b, ln.Close())
	dir := b.TempDir()
	cmd := exec.Command(bin, "-httpListenAddr="+addr, "-storageDataPath="+filepath.Join(dir, "data"), "-retentionPeriod=1y")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
	}
	b.Fatal("victoria-metrics did not start")
	return ""
}

// vmReadBytes is how many bytes victoria-metrics has read from its HTTP
// connections (vm_tcplistener_read_bytes_total): the requests on the wire,
// headers included.
func vmReadBytes(b *testing.B, addr string) int64 {
	b.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(b, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b, err)
	var total int64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "vm_tcplistener_read_bytes_total{") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(b, err)
			total += int64(v)
		}
	}
	return total
}

// rwBatch is a scrape of 20 Go services: 20 resources of 25 gauges with 10
// series each, 5000 samples.
func rwBatch() pmetric.Metrics {
	md := pmetric.NewMetrics()
	for r := range 20 {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "svc-"+strconv.Itoa(r))
		rm.Resource().Attributes().PutStr("service.instance.id", "10.0.0."+strconv.Itoa(r)+":6060")
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		for m := range 25 {
			metric := ms.AppendEmpty()
			metric.SetName("go.metric." + strconv.Itoa(m))
			dps := metric.SetEmptyGauge().DataPoints()
			for s := range 10 {
				dp := dps.AppendEmpty()
				dp.SetDoubleValue(float64(s * m))
				dp.Attributes().PutStr("state", "s"+strconv.Itoa(s))
			}
		}
	}
	return md
}

func stamp(md pmetric.Metrics, ts time.Time) {
	t := pcommon.NewTimestampFromTime(ts)
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			dps := ms.At(j).Gauge().DataPoints()
			for k := range dps.Len() {
				dps.At(k).SetTimestamp(t)
			}
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRemoteWrite delivers the same batches to a local
// victoria-metrics through this exporter and through contrib's
// prometheusremotewrite exporter (v0.164.0), both synchronous (no queue),
// and reports samples per CPU-second of this process (the exporter alone:
// victoria-metrics runs apart) and bytes on the wire per sample, as
// victoria-metrics counts them.
func BenchmarkRemoteWrite(b *testing.B) {
	vm := startVictoriaMetrics(b)
	const samplesPerBatch = 5000
	run := func(b *testing.B, exp exporter.Metrics) {
		ctx := context.Background()
		require.NoError(b, exp.Start(ctx, componenttest.NewNopHost()))
		defer func() { require.NoError(b, exp.Shutdown(ctx)) }()
		md := rwBatch()
		start := time.Now().Add(-time.Hour)
		n := 0
		stamp(md, start)
		require.NoError(b, exp.ConsumeMetrics(ctx, md))
		bytes0 := vmReadBytes(b, vm)
		cpu0 := cpuTime()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			n++
			stamp(md, start.Add(time.Duration(n)*time.Second))
			if err := exp.ConsumeMetrics(ctx, md); err != nil {
				b.Fatal(err)
			}
		}
		cpu := cpuTime() - cpu0
		sent := vmReadBytes(b, vm) - bytes0
		b.ReportMetric(float64(n*samplesPerBatch)/cpu.Seconds(), "samples/cpu-s")
		b.ReportMetric(float64(sent)/float64(n*samplesPerBatch), "bytes/sample")
	}
	for _, shards := range []int{1, 4} {
		b.Run(fmt.Sprintf("tsdb/shards=%d", shards), func(b *testing.B) {
			cfg := createDefaultConfig().(*Config)
			cfg.RemoteWrite.HTTP.Endpoint = "http://" + vm + "/api/v1/write"
			cfg.RemoteWrite.NativeHistograms = false
			cfg.RemoteWrite.Shards = shards
			cfg.BackOffConfig.Enabled = false
			exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
			require.NoError(b, err)
			run(b, exp)
		})
	}
	b.Run("contrib_prometheusremotewrite", func(b *testing.B) {
		f := prometheusremotewriteexporter.NewFactory()
		cfg := f.CreateDefaultConfig().(*prometheusremotewriteexporter.Config)
		endpoint := "http://" + vm + "/api/v1/write"
		cfg.ClientConfig.Endpoint = endpoint
		cfg.HTTP.Endpoint = endpoint
		cfg.RemoteWriteQueue.Enabled = false
		cfg.BackOffConfig.Enabled = false
		exp, err := f.CreateMetrics(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
		require.NoError(b, err)
		run(b, exp)
	})
}
