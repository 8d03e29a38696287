package tsdbexporter

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/metadata"
)

// appendBatch is one scrape of a Go service: one resource, 10 gauges of 100
// series each (1000 samples, plus target_info).
func appendBatch() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	rm.Resource().Attributes().PutStr("service.instance.id", "pod-1")
	rm.Resource().Attributes().PutStr("tenant", "team-a")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	for m := range 10 {
		metric := ms.AppendEmpty()
		metric.SetName("go.metric." + strconv.Itoa(m))
		dps := metric.SetEmptyGauge().DataPoints()
		for s := range 100 {
			dp := dps.AppendEmpty()
			dp.SetDoubleValue(float64(s))
			dp.Attributes().PutStr("series", strconv.Itoa(s))
		}
	}
	return md
}

// setTimestamps moves every point of md to ts.
func setTimestamps(md pmetric.Metrics, ts time.Time) {
	t := pcommon.NewTimestampFromTime(ts)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for m := range ms.Len() {
		dps := ms.At(m).Gauge().DataPoints()
		for i := range dps.Len() {
			dps.At(i).SetTimestamp(t)
		}
	}
}

// BenchmarkAppend compares the exporter's whole write path (exporterhelper,
// converter, counting appender, commit, telemetry) with Prometheus' own OTLP
// receiver path (the same converter into the same TSDB appender and commit)
// on the same batches, in one run.
func BenchmarkAppend(b *testing.B) {
	const samplesPerBatch = 1000
	start := time.Now()
	b.Run("exporter", func(b *testing.B) {
		cfg := createDefaultConfig().(*Config)
		cfg.Storage.Path = b.TempDir()
		cfg.API.NetAddr.Endpoint = ""
		exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
		require.NoError(b, err)
		require.NoError(b, exp.Start(context.Background(), componenttest.NewNopHost()))
		defer func() { require.NoError(b, exp.Shutdown(context.Background())) }()
		md := appendBatch()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			setTimestamps(md, start.Add(time.Duration(n)*time.Second))
			if err := exp.ConsumeMetrics(context.Background(), md); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*samplesPerBatch)/b.Elapsed().Seconds(), "samples/s")
	})
	b.Run("prometheus", func(b *testing.B) {
		opts := tsdb.DefaultOptions()
		opts.OutOfOrderTimeWindow = (10 * time.Minute).Milliseconds()
		db, err := tsdb.Open(b.TempDir(), nil, nil, opts, nil)
		require.NoError(b, err)
		defer func() { require.NoError(b, db.Close()) }()
		settings := prometheusremotewrite.Settings{
			AddMetricSuffixes:                    true,
			PromoteResourceAttributes:            prometheusremotewrite.NewPromoteResourceAttributes(config.OTLPConfig{PromoteResourceAttributes: []string{"tenant"}}),
			LabelNameUnderscoreSanitization:      true,
			LabelNamePreserveMultipleUnderscores: true,
		}
		conv := prometheusremotewrite.NewPrometheusConverter(nil)
		md := appendBatch()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			setTimestamps(md, start.Add(time.Duration(n)*time.Second))
			app := db.AppenderV2(context.Background())
			conv.Reset(app)
			if _, err := conv.FromMetrics(context.Background(), md, settings); err != nil {
				b.Fatal(err)
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*samplesPerBatch)/b.Elapsed().Seconds(), "samples/s")
	})
}
