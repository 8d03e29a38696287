package tenantprocessor

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/deltatocumulativeprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
)

const (
	metricsPerBatch = 10
	pointsPerMetric = 100
	pointsPerBatch  = metricsPerBatch * pointsPerMetric
)

// benchBatches builds series/1000 batches, each one scraped target (one
// resource) with 10 delta-sum metrics of 100 points; every point is its own
// series, so the batches together hold exactly series streams. attrs is the
// number of attributes per point.
func benchBatches(series, attrs int) []pmetric.Metrics {
	out := make([]pmetric.Metrics, series/pointsPerBatch)
	for b := range out {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		ra := rm.Resource().Attributes()
		ra.PutStr("service.name", "checkout")
		ra.PutStr("service.instance.id", "instance-"+strconv.Itoa(b))
		ra.PutStr("process.runtime.name", "go")
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		for m := range metricsPerBatch {
			metric := ms.AppendEmpty()
			metric.SetName("go.metric." + strconv.Itoa(m))
			sum := metric.SetEmptySum()
			sum.SetIsMonotonic(true)
			for p := range pointsPerMetric {
				dp := sum.DataPoints().AppendEmpty()
				dp.SetIntValue(int64(p))
				dp.Attributes().PutStr("go.goroutine.state", "state-"+strconv.Itoa(p))
				for a := 1; a < attrs; a++ {
					dp.Attributes().PutStr("label."+strconv.Itoa(a), "value-"+strconv.Itoa(a*p%17))
				}
			}
		}
		out[b] = md
	}
	return out
}

// nextInterval turns a batch into the next delta interval of its streams,
// as deltatocumulative needs; both processors pay for it alike.
func nextInterval(md pmetric.Metrics, i int) {
	start := pcommon.Timestamp(uint64(i) * uint64(time.Minute))
	end := start + pcommon.Timestamp(time.Minute)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for m := range ms.Len() {
		sum := ms.At(m).Sum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		dps := sum.DataPoints()
		for p := range dps.Len() {
			dps.At(p).SetStartTimestamp(start)
			dps.At(p).SetTimestamp(end)
		}
	}
}

func runBatches(b *testing.B, p processor.Metrics, batches []pmetric.Metrics) {
	ctx := context.Background()
	require.NoError(b, p.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(b, p.Shutdown(ctx)) }()
	// Warm up: every series is tracked before the timer starts.
	for i, md := range batches {
		nextInterval(md, 0)
		require.NoError(b, p.ConsumeMetrics(ctx, md))
		_ = i
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		md := batches[n%len(batches)]
		nextInterval(md, 1+n/len(batches))
		if err := p.ConsumeMetrics(ctx, md); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*pointsPerBatch)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*pointsPerBatch), "ns/point")
}

// BenchmarkProcessor compares this processor's limits with contrib's
// deltatocumulative processor bounded by max_streams, on the same batches,
// at 10k, 100k and 1M tracked series. One batch is 1000 points.
func BenchmarkProcessor(b *testing.B) {
	for _, series := range []int{10_000, 100_000, 1_000_000} {
		for _, shape := range []struct {
			name  string
			attrs int
		}{{"runtime", 1}, {"10attrs", 10}} {
			batches := benchBatches(series, shape.attrs)
			b.Run(fmt.Sprintf("tenant/series=%d/%s", series, shape.name), func(b *testing.B) {
				cfg := createDefaultConfig().(*Config)
				cfg.Limits.MaxSeriesPerTenant = series
				cfg.Limits.MaxSeriesPerMetric = series
				set := processortest.NewNopSettings(metadata.Type)
				set.ID = component.NewIDWithName(metadata.Type, b.Name())
				p, err := NewFactory().CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
				require.NoError(b, err)
				runBatches(b, p, batches)
			})
			b.Run(fmt.Sprintf("deltatocumulative/series=%d/%s", series, shape.name), func(b *testing.B) {
				f := deltatocumulativeprocessor.NewFactory()
				cfg := f.CreateDefaultConfig().(*deltatocumulativeprocessor.Config)
				cfg.MaxStreams = series
				p, err := f.CreateMetrics(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
				require.NoError(b, err)
				runBatches(b, p, batches)
			})
		}
	}
}
