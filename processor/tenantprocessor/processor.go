package tenantprocessor // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor"

import (
	"context"
	"sort"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/tenancy"
)

type tenantProcessor struct {
	key      string
	resolver tenancy.Resolver
	// namespace holds the namespace labels sorted by key, so every data
	// point gets them in the same order.
	namespace []label
}

type label struct{ key, value string }

func newTenantProcessor(cfg *Config) *tenantProcessor {
	p := &tenantProcessor{key: cfg.AttributeKey, resolver: tenancy.Static(cfg.DefaultTenant)}
	for k, v := range cfg.Namespace.Attributes {
		p.namespace = append(p.namespace, label{k, v})
	}
	sort.Slice(p.namespace, func(i, j int) bool { return p.namespace[i].key < p.namespace[j].key })
	return p
}

func (p *tenantProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		tenant := p.resolver.Resolve(ctx, rm.Resource())
		rm.Resource().Attributes().PutStr(p.key, tenant)
		if len(p.namespace) > 0 {
			p.addNamespace(rm)
		}
	}
	return md, nil
}

// addNamespace sets the namespace labels on every data point of rm.
func (p *tenantProcessor) addNamespace(rm pmetric.ResourceMetrics) {
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			forEachAttributes(ms.At(j), p.setNamespace)
		}
	}
}

func (p *tenantProcessor) setNamespace(attrs pcommon.Map) {
	for _, l := range p.namespace {
		attrs.PutStr(l.key, l.value)
	}
}

// forEachAttributes calls fn with the attributes of every data point of m.
func forEachAttributes(m pmetric.Metric, fn func(pcommon.Map)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		dps := m.Gauge().DataPoints()
		for i := range dps.Len() {
			fn(dps.At(i).Attributes())
		}
	case pmetric.MetricTypeSum:
		dps := m.Sum().DataPoints()
		for i := range dps.Len() {
			fn(dps.At(i).Attributes())
		}
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := range dps.Len() {
			fn(dps.At(i).Attributes())
		}
	case pmetric.MetricTypeExponentialHistogram:
		dps := m.ExponentialHistogram().DataPoints()
		for i := range dps.Len() {
			fn(dps.At(i).Attributes())
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := range dps.Len() {
			fn(dps.At(i).Attributes())
		}
	}
}
