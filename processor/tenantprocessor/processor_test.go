package tenantprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
)

// input builds two resources, one claiming another tenant, with a data point
// of every metric type.
func input() pmetric.Metrics {
	md := pmetric.NewMetrics()
	for _, claimed := range []string{"", "someone-else"} {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "api")
		if claimed != "" {
			rm.Resource().Attributes().PutStr("tenant", claimed)
		}
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		g := ms.AppendEmpty()
		g.SetName("g")
		dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.Attributes().PutStr("env", "claimed-by-sender")
		s := ms.AppendEmpty()
		s.SetName("s")
		s.SetEmptySum().DataPoints().AppendEmpty()
		h := ms.AppendEmpty()
		h.SetName("h")
		h.SetEmptyHistogram().DataPoints().AppendEmpty()
		e := ms.AppendEmpty()
		e.SetName("e")
		e.SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
		su := ms.AppendEmpty()
		su.SetName("su")
		su.SetEmptySummary().DataPoints().AppendEmpty()
	}
	return md
}

func TestTenantAndNamespaceOnEveryStream(t *testing.T) {
	cfg := &Config{
		AttributeKey:  "tenant",
		DefaultTenant: "team-a",
		Namespace:     NamespaceConfig{Attributes: map[string]string{"env": "prod", "cluster": "c1"}},
	}
	sink := new(consumertest.MetricsSink)
	p, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.True(t, p.Capabilities().MutatesData)
	require.NoError(t, p.ConsumeMetrics(context.Background(), input()))

	got := sink.AllMetrics()[0]
	require.Equal(t, 2, got.ResourceMetrics().Len())
	points := 0
	for i := range got.ResourceMetrics().Len() {
		rm := got.ResourceMetrics().At(i)
		tenant, _ := rm.Resource().Attributes().Get("tenant")
		assert.Equal(t, "team-a", tenant.Str(), "the sender's tenant claim must be overwritten")
		ms := rm.ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			forEachAttributes(ms.At(j), func(attrs pcommon.Map) {
				points++
				assert.Equal(t, map[string]any{"env": "prod", "cluster": "c1"}, attrs.AsRaw(), ms.At(j).Name())
			})
		}
	}
	assert.Equal(t, 10, points, "every data point of every type must be visited")
}

func TestCustomAttributeKeyWithoutNamespace(t *testing.T) {
	p := newTenantProcessor(&Config{AttributeKey: "org", DefaultTenant: "b"})
	md, err := p.processMetrics(context.Background(), input())
	require.NoError(t, err)
	attrs := md.ResourceMetrics().At(1).Resource().Attributes()
	org, _ := attrs.Get("org")
	assert.Equal(t, "b", org.Str())
	claimed, _ := attrs.Get("tenant")
	assert.Equal(t, "someone-else", claimed.Str(), "only the configured key is the tenant")
	dp := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0)
	assert.Equal(t, map[string]any{"env": "claimed-by-sender"}, dp.Attributes().AsRaw())
}

func BenchmarkProcess(b *testing.B) {
	p := newTenantProcessor(&Config{
		AttributeKey: "tenant", DefaultTenant: "a",
		Namespace: NamespaceConfig{Attributes: map[string]string{"env": "prod"}},
	})
	md := input()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.processMetrics(context.Background(), md)
	}
}
