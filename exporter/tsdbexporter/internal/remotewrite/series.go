// Package remotewrite sends metrics to a Prometheus remote-write 1.0
// endpoint (Prometheus, Mimir, Thanos, VictoriaMetrics): the same OTLP
// translation as the embedded store, one request per tenant, series
// sharded over concurrent requests so that each series' samples stay in
// order, and errors classified for the exporter's retry and queue.
package remotewrite // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/remotewrite"

import (
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
)

// series is one series' samples of one batch.
type series struct {
	labels     labels.Labels
	hash       uint64
	samples    []prompb.Sample
	histograms []prompb.Histogram
}

// collector is a storage.AppenderV2 that the OTLP translation appends a
// batch to; it groups the batch's series by tenant.
type collector struct {
	tenantLabel      string
	nativeHistograms bool
	byTenant         map[string]*tenantSeries
	// dropped counts native histogram samples left out because the
	// endpoint does not take them.
	dropped int
}

// tenantSeries keeps a tenant's series in the order the translation
// appended them (resource by resource, metric by metric): similar label sets
// stay next to each other, which is what makes a request compress well.
type tenantSeries struct {
	index map[uint64]int
	list  []*series
}

func newCollector(tenantLabel string, nativeHistograms bool) *collector {
	return &collector{tenantLabel: tenantLabel, nativeHistograms: nativeHistograms, byTenant: map[string]*tenantSeries{}}
}

func (c *collector) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ storage.AppendV2Options) (storage.SeriesRef, error) {
	if (h != nil || fh != nil) && !c.nativeHistograms {
		c.dropped++
		return 0, nil
	}
	tenant := ""
	if c.tenantLabel != "" {
		tenant = ls.Get(c.tenantLabel)
	}
	ts := c.byTenant[tenant]
	if ts == nil {
		ts = &tenantSeries{index: map[uint64]int{}}
		c.byTenant[tenant] = ts
	}
	hash := ls.Hash()
	var s *series
	if i, ok := ts.index[hash]; ok {
		s = ts.list[i]
	} else {
		s = &series{labels: ls.Copy(), hash: hash}
		ts.index[hash] = len(ts.list)
		ts.list = append(ts.list, s)
	}
	switch {
	case h != nil:
		s.histograms = append(s.histograms, prompb.FromIntHistogram(t, h))
	case fh != nil:
		s.histograms = append(s.histograms, prompb.FromFloatHistogram(t, fh))
	default:
		if n := len(s.samples); n > 0 && s.samples[n-1].Timestamp == t && s.samples[n-1].Value == v {
			return 0, nil // target_info repeats its sample for each scope
		}
		s.samples = append(s.samples, prompb.Sample{Timestamp: t, Value: v})
	}
	return storage.SeriesRef(hash), nil
}

func (*collector) Commit() error   { return nil }
func (*collector) Rollback() error { return nil }

// tenants returns each tenant's series, in the order they were appended,
// with their samples in timestamp order; tenants sorted.
func (c *collector) tenants() ([]string, map[string][]*series) {
	names := make([]string, 0, len(c.byTenant))
	out := make(map[string][]*series, len(c.byTenant))
	for tenant, ts := range c.byTenant {
		names = append(names, tenant)
		for _, s := range ts.list {
			if !sort.SliceIsSorted(s.samples, func(i, j int) bool { return s.samples[i].Timestamp < s.samples[j].Timestamp }) {
				sort.SliceStable(s.samples, func(i, j int) bool { return s.samples[i].Timestamp < s.samples[j].Timestamp })
			}
			if !sort.SliceIsSorted(s.histograms, func(i, j int) bool { return s.histograms[i].Timestamp < s.histograms[j].Timestamp }) {
				sort.SliceStable(s.histograms, func(i, j int) bool { return s.histograms[i].Timestamp < s.histograms[j].Timestamp })
			}
		}
		out[tenant] = ts.list
	}
	sort.Strings(names)
	return names, out
}

// toProto builds the wire series; labels.Labels are sorted and free of
// duplicates already.
func toProto(list []*series) []prompb.TimeSeries {
	out := make([]prompb.TimeSeries, 0, len(list))
	for _, s := range list {
		ts := prompb.TimeSeries{Samples: s.samples, Histograms: s.histograms, Labels: make([]prompb.Label, 0, s.labels.Len())}
		s.labels.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
		out = append(out, ts)
	}
	return out
}
