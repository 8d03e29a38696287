// Package remotewrite sends metrics to a Prometheus remote-write 1.0
// endpoint (Prometheus, Mimir, Thanos, VictoriaMetrics): the same OTLP
// translation as the embedded store, one request per tenant, series
// sharded over concurrent requests so that each series' samples stay in
// order, and errors classified for the exporter's retry and queue.
package remotewrite // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/remotewrite"

import (
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage"
)

// series is one series' samples of one batch.
type series struct {
	labels     labels.Labels
	hash       uint64
	samples    []prompb.Sample
	histograms []prompb.Histogram
	// raw keeps the histograms as the translation gave them, for remote
	// write 2.0, in the order of histograms.
	raw []rawHistogram
}

type rawHistogram struct {
	h  *histogram.Histogram
	fh *histogram.FloatHistogram
}

// collector is a storage.AppenderV2 that the OTLP translation appends a
// batch to; it groups the batch's series by tenant. Collectors are pooled
// with their series and maps: a batch of a few thousand series otherwise
// allocated a series, a one-sample slice and a growing index for every one
// of them, a fifth of an agent's allocations.
type collector struct {
	tenantLabel      string
	nativeHistograms bool
	byTenant         map[string]*tenantSeries
	// dropped counts native histogram samples left out because the
	// endpoint does not take them.
	dropped int
	// slab holds the series handed out, used of them this batch.
	slab []*series
	used int
}

var collectors = sync.Pool{New: func() any { return &collector{byTenant: map[string]*tenantSeries{}} }}

// tenantSeries keeps a tenant's series in the order the translation
// appended them (resource by resource, metric by metric): similar label sets
// stay next to each other, which is what makes a request compress well.
type tenantSeries struct {
	index map[uint64]int
	list  []*series
}

func newCollector(tenantLabel string, nativeHistograms bool) *collector {
	c := collectors.Get().(*collector)
	c.tenantLabel, c.nativeHistograms, c.dropped = tenantLabel, nativeHistograms, 0
	return c
}

// release returns c to the pool; nothing may use it or its series after.
func (c *collector) release() {
	c.reset()
	collectors.Put(c)
}

// reset empties c for the next batch, keeping its room. Tenants without
// series in this batch are forgotten, so that a pooled collector does not
// grow with tenants that come and go.
func (c *collector) reset() {
	for tenant, ts := range c.byTenant {
		if len(ts.list) == 0 {
			delete(c.byTenant, tenant)
			continue
		}
		clear(ts.index)
		clear(ts.list) // no pointers kept past the batch
		ts.list = ts.list[:0]
	}
	for _, s := range c.slab[:c.used] {
		// Keep the slices' room, drop what they point to.
		clear(s.raw)
		clear(s.histograms)
		*s = series{samples: s.samples[:0], histograms: s.histograms[:0], raw: s.raw[:0]}
	}
	c.used = 0
}

// newSeries hands out a series from the slab.
func (c *collector) newSeries(ls labels.Labels, hash uint64) *series {
	if c.used == len(c.slab) {
		chunk := make([]series, max(64, len(c.slab)/2))
		for i := range chunk {
			c.slab = append(c.slab, &chunk[i])
		}
	}
	s := c.slab[c.used]
	c.used++
	s.labels, s.hash = ls, hash
	return s
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
		// Kept without a copy: the translation builds a new label set for
		// every point (labels.Builder.Labels allocates its own buffer), and
		// label sets are immutable.
		s = c.newSeries(ls, hash)
		ts.index[hash] = len(ts.list)
		ts.list = append(ts.list, s)
	}
	switch {
	case h != nil:
		s.histograms = append(s.histograms, prompb.FromIntHistogram(t, h))
		s.raw = append(s.raw, rawHistogram{h: h})
	case fh != nil:
		s.histograms = append(s.histograms, prompb.FromFloatHistogram(t, fh))
		s.raw = append(s.raw, rawHistogram{fh: fh})
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
				sort.Sort(byTimestamp{s})
			}
		}
		out[tenant] = ts.list
	}
	sort.Strings(names)
	return names, out
}

// byTimestamp sorts a series' histograms and their raw forms together.
type byTimestamp struct{ s *series }

func (b byTimestamp) Len() int { return len(b.s.histograms) }
func (b byTimestamp) Less(i, j int) bool {
	return b.s.histograms[i].Timestamp < b.s.histograms[j].Timestamp
}

func (b byTimestamp) Swap(i, j int) {
	b.s.histograms[i], b.s.histograms[j] = b.s.histograms[j], b.s.histograms[i]
	b.s.raw[i], b.s.raw[j] = b.s.raw[j], b.s.raw[i]
}

// toV2 builds a remote write 2.0 request: labels as references into one
// symbol table.
func toV2(list []*series) *writev2.Request {
	st := writev2.NewSymbolTable()
	out := make([]writev2.TimeSeries, 0, len(list))
	for _, s := range list {
		ts := writev2.TimeSeries{LabelsRefs: st.SymbolizeLabels(s.labels, nil)}
		for _, smp := range s.samples {
			ts.Samples = append(ts.Samples, writev2.Sample{Value: smp.Value, Timestamp: smp.Timestamp})
		}
		for i, r := range s.raw {
			t := s.histograms[i].Timestamp
			if r.h != nil {
				ts.Histograms = append(ts.Histograms, writev2.FromIntHistogram(0, t, r.h))
			} else {
				ts.Histograms = append(ts.Histograms, writev2.FromFloatHistogram(0, t, r.fh))
			}
		}
		out = append(out, ts)
	}
	return &writev2.Request{Symbols: st.Symbols(), Timeseries: out}
}
