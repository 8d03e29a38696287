package remotewrite

import (
	"math"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
)

// staleNaN is Prometheus' staleness marker value.
var staleNaN = math.Float64frombits(value.StaleNaN)

// staleness remembers when every float series was last sent and how often
// it comes, so that a series that stops coming (its target went away) is
// ended with a staleness marker, as Prometheus does for a target that
// disappears from scraping.
type staleness struct {
	// after is how long, in ms, a series may go unseen before it is ended;
	// at least two of its own intervals.
	after int64
	max   int

	mu     sync.Mutex
	series map[uint64]*seen
	// newest is the newest sample of any series, ms: the clock a series'
	// absence is measured on, so that delayed or backfilled data (and a
	// skewed clock) never make live series look ended.
	newest int64
}

type seen struct {
	tenant   string
	labels   labels.Labels
	last     int64 // newest sample sent, ms
	interval int64 // between its last two samples, ms; 0 while unknown
}

func newStaleness(afterMs int64, maxSeries int) *staleness {
	return &staleness{after: afterMs, max: maxSeries, series: map[uint64]*seen{}}
}

func key(tenant string, hash uint64) uint64 {
	// The tenant label is part of the labels already; the tenant string
	// only guards series without one.
	return hash ^ uint64(len(tenant))*0x9e3779b97f4a7c15
}

// observe records the float series of a delivered batch.
func (s *staleness) observe(tenant string, list []*series) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sr := range list {
		n := len(sr.samples)
		if n == 0 || math.Float64bits(sr.samples[n-1].Value) == value.StaleNaN {
			continue
		}
		k := key(tenant, sr.hash)
		t := s.series[k]
		if t == nil {
			if len(s.series) >= s.max {
				continue // bounded: series past the bound are never marked
			}
			t = &seen{tenant: tenant, labels: sr.labels}
			s.series[k] = t
		}
		newest := sr.samples[n-1].Timestamp
		switch {
		case n > 1:
			t.interval = newest - sr.samples[n-2].Timestamp
		case t.last > 0 && newest > t.last:
			t.interval = newest - t.last
		}
		t.last = max(t.last, newest)
		s.newest = max(s.newest, newest)
	}
}

// ended returns, by tenant, a staleness marker for every series whose last
// sample is more than after (ms) older than the newest sample of any series,
// placed one interval after its last sample.
func (s *staleness) ended() map[string][]*series {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.newest
	out := map[string][]*series{}
	for k, t := range s.series {
		wait := max(s.after, 2*t.interval)
		if now-t.last < wait {
			continue
		}
		at := t.last + max(t.interval, 1)
		out[t.tenant] = append(out[t.tenant], &series{
			labels:  t.labels,
			hash:    k,
			samples: []prompb.Sample{{Timestamp: at, Value: staleNaN}},
		})
	}
	return out
}

// forget drops series whose markers were delivered.
func (s *staleness) forget(list []*series) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sr := range list {
		delete(s.series, sr.hash)
	}
}
