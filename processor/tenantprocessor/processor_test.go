package tenantprocessor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
)

// checkingSink checks every request it gets: one tenant per request, named
// the same in the metadata and every resource.
type checkingSink struct {
	t      *testing.T
	points atomic.Int64
}

func (*checkingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *checkingSink) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	tenant := client.FromContext(ctx).Metadata.Get("X-Scope-OrgID")
	if len(tenant) != 1 {
		s.t.Errorf("request with tenant metadata %v", tenant)
		return nil
	}
	for i := range md.ResourceMetrics().Len() {
		if got := tenantOf(md.ResourceMetrics().At(i), "tenant"); got != tenant[0] {
			s.t.Errorf("resource of tenant %q in a request of tenant %q", got, tenant[0])
		}
	}
	s.points.Add(int64(md.DataPointCount()))
	return nil
}

// batch builds one batch: for each tenant a resource with n gauge points of
// series offset..offset+n-1.
func batch(tenants []string, n, offset int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for _, tenant := range tenants {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.namespace", tenant)
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("go.goroutine.count")
		dps := m.SetEmptyGauge().DataPoints()
		for i := range n {
			dp := dps.AppendEmpty()
			dp.SetIntValue(int64(i))
			dp.Attributes().PutStr("series", fmt.Sprint(offset+i))
		}
	}
	return md
}

func TestConcurrentBatchesStayWithinLimits(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Sources = []SourceConfig{{Attribute: "service.namespace"}}
	cfg.Limits.MaxSeriesPerTenant = 100
	set := processortest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, t.Name())
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := &checkingSink{t: t}
	p, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))

	const goroutines, batches, perBatch = 8, 100, 20
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for b := range batches {
				// 300 candidate series per tenant, more than the limit.
				md := batch([]string{"a", "b", "c"}, perBatch, (g*batches+b)*7%280)
				if err := p.ConsumeMetrics(context.Background(), md); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, p.Shutdown(context.Background()))

	total := int64(goroutines * batches * perBatch * 3)
	tp := p.(*tenantProcessor)
	tp.tracker.Each(func(tenant string, active, _ int) {
		assert.LessOrEqual(t, active, 100, tenant)
		assert.Equal(t, 100, active, "%s: 280 candidate series must fill the limit", tenant)
	})
	dropped := int64(0)
	m, err := tel.GetMetric("otelcol_tenant_points_dropped")
	require.NoError(t, err)
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		dropped += dp.Value
	}
	assert.Equal(t, total, sink.points.Load()+dropped, "every point is either passed on or counted as dropped")
	assert.Positive(t, dropped)
}

func TestOtherMetadataIsKept(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Sources = []SourceConfig{{Metadata: "X-Scope-OrgID"}}
	var got client.Info
	next := consumerFunc(func(ctx context.Context, _ pmetric.Metrics) error {
		got = client.FromContext(ctx)
		return nil
	})
	set := processortest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, t.Name())
	p, err := NewFactory().CreateMetrics(context.Background(), set, cfg, next)
	require.NoError(t, err)
	ctx := client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(map[string][]string{
		"X-Scope-OrgID": {"team-a"}, "Authorization": {"Bearer x"},
	})})
	require.NoError(t, p.ConsumeMetrics(ctx, batch([]string{"ignored"}, 1, 0)))
	assert.Equal(t, []string{"team-a"}, got.Metadata.Get("X-Scope-OrgID"))
	assert.Equal(t, []string{"Bearer x"}, got.Metadata.Get("Authorization"))
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestShutdownWithoutStart(t *testing.T) {
	set := processortest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, t.Name())
	p, err := NewFactory().CreateMetrics(context.Background(), set, createDefaultConfig(), consumerFunc(nil))
	require.NoError(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
}

type consumerFunc func(context.Context, pmetric.Metrics) error

func (consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (f consumerFunc) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return f(ctx, md)
}
