package target

import (
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/model"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/promtext"
)

// modelFamilies are families outside go_* whose values the model carries.
var modelFamilies = map[string]bool{
	"go_info":                       true, // process.runtime.version
	"process_start_time_seconds":    true, // the series' start time
	"process_cpu_seconds_total":     true,
	"process_resident_memory_bytes": true,
	"process_virtual_memory_bytes":  true,
	"process_open_fds":              true,
}

// modelSources are the runtime/metrics names the model reads.
var modelSources = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range model.RuntimeNames {
		m[n] = true
	}
	return m
}()

// passThrough appends the /metrics families that include keeps and the
// model does not already carry, under their own names: counters as
// cumulative sums, gauges and untyped as gauges, histograms with their
// buckets and sum, summaries with their quantiles. Labels become data
// point attributes.
func passThrough(ms pmetric.MetricSlice, f *promtext.Families, include func(string) bool, start, ts pcommon.Timestamp) {
	for _, name := range f.Names() {
		if !include(name) || modelFamilies[name] {
			continue
		}
		if src, ok := f.Source(name); ok && modelSources[src] {
			continue
		}
		mf, _ := f.Family(name)
		m := pmetric.NewMetric()
		m.SetName(name)
		m.SetDescription(mf.GetHelp())
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, pm := range mf.GetMetric() {
				dp := s.DataPoints().AppendEmpty()
				point(dp.Attributes(), pm, start, ts, dp.SetStartTimestamp, dp.SetTimestamp)
				dp.SetDoubleValue(pm.GetCounter().GetValue())
			}
		case dto.MetricType_GAUGE, dto.MetricType_UNTYPED:
			g := m.SetEmptyGauge()
			for _, pm := range mf.GetMetric() {
				dp := g.DataPoints().AppendEmpty()
				point(dp.Attributes(), pm, 0, ts, nil, dp.SetTimestamp)
				if mf.GetType() == dto.MetricType_GAUGE {
					dp.SetDoubleValue(pm.GetGauge().GetValue())
				} else {
					dp.SetDoubleValue(pm.GetUntyped().GetValue())
				}
			}
		case dto.MetricType_HISTOGRAM:
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, pm := range mf.GetMetric() {
				b, c, ok := promtext.Buckets(pm.GetHistogram())
				if !ok {
					continue
				}
				dp := h.DataPoints().AppendEmpty()
				point(dp.Attributes(), pm, start, ts, dp.SetStartTimestamp, dp.SetTimestamp)
				dp.ExplicitBounds().FromRaw(b[1 : len(b)-1])
				dp.BucketCounts().FromRaw(c)
				dp.SetCount(pm.GetHistogram().GetSampleCount())
				dp.SetSum(pm.GetHistogram().GetSampleSum())
			}
		case dto.MetricType_SUMMARY:
			s := m.SetEmptySummary()
			for _, pm := range mf.GetMetric() {
				dp := s.DataPoints().AppendEmpty()
				point(dp.Attributes(), pm, start, ts, dp.SetStartTimestamp, dp.SetTimestamp)
				dp.SetCount(pm.GetSummary().GetSampleCount())
				dp.SetSum(pm.GetSummary().GetSampleSum())
				for _, q := range pm.GetSummary().GetQuantile() {
					qv := dp.QuantileValues().AppendEmpty()
					qv.SetQuantile(q.GetQuantile())
					qv.SetValue(q.GetValue())
				}
			}
		default:
			continue
		}
		m.MoveTo(ms.AppendEmpty())
	}
}

func point(attrs pcommon.Map, pm *dto.Metric, start, ts pcommon.Timestamp, setStart, setTS func(pcommon.Timestamp)) {
	for _, l := range pm.GetLabel() {
		attrs.PutStr(l.GetName(), l.GetValue())
	}
	if setStart != nil {
		setStart(start)
	}
	setTS(ts)
}

// includeMemoLimit bounds a target's memo of include decisions; a target
// whose family names never repeat would otherwise grow it without end.
// Names longer than includeMemoMaxLen are matched each time, so that the
// memo's bytes are bounded too.
const (
	includeMemoLimit  = 4096
	includeMemoMaxLen = 256
)

// included reports whether an include pattern keeps family name. Names
// repeat every scrape and matching each against the patterns was a tenth
// of a collector's CPU with include: ["go_.*"] on 200 targets, so the
// answers are kept.
func (t *Target) included(name string) bool {
	if len(t.s.PrometheusInclude) == 0 {
		return false
	}
	if v, ok := t.includeMemo[name]; ok {
		return v
	}
	v := false
	for _, re := range t.s.PrometheusInclude {
		if re.MatchString(name) {
			v = true
			break
		}
	}
	if len(name) > includeMemoMaxLen {
		return v
	}
	if t.includeMemo == nil || len(t.includeMemo) >= includeMemoLimit {
		t.includeMemo = map[string]bool{}
	}
	t.includeMemo[name] = v
	return v
}
