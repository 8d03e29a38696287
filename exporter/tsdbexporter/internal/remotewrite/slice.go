package remotewrite

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// slices plans a batch's slices of about limit series each: the indexes
// of the resources each holds, in the batch's order, or nil when the batch
// fits in one. The resources of one service instance (the same
// service.namespace, service.name and service.instance.id, which the
// translation turns into the same job and instance labels, so possibly
// the same series) go in the same slice, so that no series is split
// between two slices' requests.
func slices(md pmetric.Metrics, limit int) [][]int {
	rms := md.ResourceMetrics()
	if rms.Len() < 2 {
		return nil
	}
	// Most batches fit: count first, and group only those that do not.
	series := make([]int, rms.Len())
	total := 0
	for i := range rms.Len() {
		series[i] = seriesIn(rms.At(i))
		total += series[i]
	}
	if total <= limit {
		return nil
	}
	type group struct {
		rms    []int
		series int
	}
	var groups []*group
	byKey := map[string]*group{}
	for i := range rms.Len() {
		k := instanceKey(rms.At(i).Resource().Attributes())
		g := byKey[k]
		if g == nil {
			g = &group{}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.rms = append(g.rms, i)
		g.series += series[i]
	}
	if len(groups) < 2 {
		return nil
	}
	var out [][]int
	var cur []int
	size := 0
	for _, g := range groups {
		if size > 0 && size+g.series > limit {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, g.rms...)
		size += g.series
	}
	return append(out, cur)
}

// withSlice moves the resources at idx out of md into a batch of their
// own, calls send with it, and moves them back: a slice costs no copy.
// The caller owns md (the exporter declares that it mutates data).
func withSlice(md pmetric.Metrics, idx []int, send func(pmetric.Metrics)) {
	rms := md.ResourceMetrics()
	part := pmetric.NewMetrics()
	prms := part.ResourceMetrics()
	prms.EnsureCapacity(len(idx))
	for _, i := range idx {
		rms.At(i).MoveTo(prms.AppendEmpty())
	}
	defer func() {
		for k, i := range idx {
			prms.At(k).MoveTo(rms.At(i))
		}
	}()
	send(part)
}

// instanceKey is what makes a resource's job and instance labels.
func instanceKey(attrs pcommon.Map) string {
	var k []byte
	for _, name := range [...]string{"service.namespace", "service.name", "service.instance.id"} {
		if v, ok := attrs.Get(name); ok {
			k = append(k, v.AsString()...)
		}
		k = append(k, 0)
	}
	return string(k)
}

// seriesIn estimates the series a resource's metrics become: one per
// number point, a classic histogram's buckets with its +Inf bucket, sum
// and count, a summary's quantiles with its sum and count, one per native
// histogram, and target_info.
func seriesIn(rm pmetric.ResourceMetrics) int {
	n := 1
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			m := ms.At(j)
			switch m.Type() {
			case pmetric.MetricTypeGauge:
				n += m.Gauge().DataPoints().Len()
			case pmetric.MetricTypeSum:
				n += m.Sum().DataPoints().Len()
			case pmetric.MetricTypeHistogram:
				dps := m.Histogram().DataPoints()
				for k := range dps.Len() {
					n += dps.At(k).BucketCounts().Len() + 2
				}
			case pmetric.MetricTypeExponentialHistogram:
				n += m.ExponentialHistogram().DataPoints().Len()
			case pmetric.MetricTypeSummary:
				dps := m.Summary().DataPoints()
				for k := range dps.Len() {
					n += dps.At(k).QuantileValues().Len() + 2
				}
			}
		}
	}
	return n
}
