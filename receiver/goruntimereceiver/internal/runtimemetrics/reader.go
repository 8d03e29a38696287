// Package runtimemetrics reads the Go runtime's own metrics (runtime/metrics)
// of the current process, without allocating once the first read has sized
// the histograms.
package runtimemetrics // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/runtimemetrics"

import (
	"math"
	"runtime/metrics"
)

// Reader reads a fixed set of runtime/metrics values. It is not safe for
// concurrent use: the values it gives are those of the last Read.
type Reader struct {
	// samples holds the metrics this runtime supports, among those asked
	// for; pos maps a name to its index in samples.
	samples []metrics.Sample
	pos     map[string]int
}

// NewReader returns a Reader of the named metrics this runtime supports. A
// metric the runtime does not have is absent from every read, never zero.
func NewReader(names ...string) *Reader {
	supported := map[string]bool{}
	for _, d := range metrics.All() {
		supported[d.Name] = true
	}
	r := &Reader{pos: map[string]int{}}
	for _, name := range names {
		if _, dup := r.pos[name]; dup || !supported[name] {
			continue
		}
		r.pos[name] = len(r.samples)
		r.samples = append(r.samples, metrics.Sample{Name: name})
	}
	return r
}

// Read takes a new snapshot. After the first call it allocates nothing: the
// runtime reuses the histograms held by the samples.
func (r *Reader) Read() { metrics.Read(r.samples) }

// Has reports whether the runtime provides name.
func (r *Reader) Has(name string) bool {
	_, ok := r.pos[name]
	return ok
}

func (r *Reader) value(name string) (metrics.Value, bool) {
	i, ok := r.pos[name]
	if !ok {
		return metrics.Value{}, false
	}
	v := r.samples[i].Value
	return v, v.Kind() != metrics.KindBad
}

// Int returns an integer metric, clamped to math.MaxInt64.
func (r *Reader) Int(name string) (int64, bool) {
	v, ok := r.value(name)
	if !ok || v.Kind() != metrics.KindUint64 {
		return 0, false
	}
	u := v.Uint64()
	if u > math.MaxInt64 {
		return math.MaxInt64, true
	}
	return int64(u), true
}

// Float returns a float metric.
func (r *Reader) Float(name string) (float64, bool) {
	v, ok := r.value(name)
	if !ok || v.Kind() != metrics.KindFloat64 {
		return 0, false
	}
	return v.Float64(), true
}

// Histogram returns a histogram metric in runtime/metrics' layout. The
// slices are owned by the Reader and change on the next Read.
func (r *Reader) Histogram(name string) ([]float64, []uint64, bool) {
	v, ok := r.value(name)
	if !ok || v.Kind() != metrics.KindFloat64Histogram {
		return nil, nil, false
	}
	h := v.Float64Histogram()
	return h.Buckets, h.Counts, true
}
