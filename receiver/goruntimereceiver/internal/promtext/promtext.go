// Package promtext parses the /metrics a Go service serves with
// client_golang (Prometheus text, and OpenMetrics 1.0 as far as expfmt
// reads it) and gives its Go runtime families back by their runtime/metrics
// names, which client_golang writes into each family's HELP text ("Sourced
// from /gc/heap/allocs:bytes." or "Equals to /memory/classes/total:byte.").
package promtext // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/promtext"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/bodybuf"
)

// ErrTooLarge is returned for a response over the size limit.
var ErrTooLarge = bodybuf.ErrTooLarge

// Families is one parsed /metrics answer.
type Families struct {
	// byName holds every family by name.
	byName map[string]*dto.MetricFamily
	// byRuntime maps a runtime/metrics name to the family that carries it.
	byRuntime map[string]*dto.MetricFamily
	// source maps a family's name to the runtime/metrics name it carries.
	source map[string]string
	// GoVersion is go_info's version label, when served.
	GoVersion string
}

// helpSource finds the runtime/metrics name that ends a client_golang HELP
// text ("... Sourced from /gc/heap/allocs:bytes." or "Equals to
// /memory/classes/total:bytes."); a sum of several names ("Equals to a +
// b.") is not a single source. It is a hand-written scanner because a
// regular expression here cost 40% of a whole /metrics scrape.
func helpSource(help string) (string, bool) {
	s := strings.TrimSuffix(strings.TrimSpace(help), ".")
	sp := strings.LastIndexByte(s, ' ')
	if sp < 0 {
		return "", false
	}
	prefix, name := s[:sp+1], s[sp+1:]
	if !strings.HasSuffix(prefix, "Sourced from ") && !strings.HasSuffix(prefix, "Equals to ") {
		return "", false
	}
	return name, isRuntimeMetricName(name)
}

// isRuntimeMetricName reports whether s looks like a runtime/metrics name:
// "/" then [a-z0-9/_-]+ then ":" then the unit, [a-z-]+.
func isRuntimeMetricName(s string) bool {
	colon := strings.IndexByte(s, ':')
	if len(s) < 2 || s[0] != '/' || colon < 2 || colon == len(s)-1 {
		return false
	}
	for i := 1; i < colon; i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '/' && c != '_' && c != '-' {
			return false
		}
	}
	for i := colon + 1; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}

// knownFamilies maps families client_golang serves without naming their
// runtime/metrics source.
var knownFamilies = map[string]string{
	"go_goroutines": "/sched/goroutines:goroutines",
}

// Reader reads /metrics answers, the body into a pooled buffer (a new
// buffer per answer was a third of a scrape's allocations) and the
// families into maps it keeps from one answer to the next; protobuf
// answers decode into a pooled arena (see proto.go). One target's scrapes
// share one Reader; what it returns is valid until Release or the next
// Parse.
type Reader struct {
	// Keep, when set, names the families whose metrics a protobuf answer's
	// decoding keeps, given their name and HELP text; the others are
	// skipped unread (their bytes still well-formed protobuf) and left out
	// of the Families. Text answers are parsed whole. Its answer for a
	// name and HELP must not change: the Reader remembers it.
	Keep func(name, help string) bool

	fams Families
	ar   *arena
	seen []seenFamily
}

// seenFamily is what a Reader remembers of the family at one position of
// the last protobuf answer: a target serves the same families in the same
// order every scrape, so the next answer's family at that position is
// nearly always this one again. It is checked against the answer's name
// and HELP bytes, which spares the process-wide table's lock and hashing
// and the Keep decision for each of an answer's ~150 families.
type seenFamily struct {
	f    *family
	keep bool
}

// seenLimit bounds the positions a Reader remembers (8 KiB); families past
// it are looked up each time.
const seenLimit = 512

// Release drops the families of the last answer: held until the next
// scrape, the decoded families of every target would add up to more than
// all the rest of the receiver. The arena, with the maps that indexed
// them, goes back to the pool the targets share.
func (rd *Reader) Release() {
	rd.fams.byName, rd.fams.byRuntime, rd.fams.source = nil, nil, nil
	if rd.ar != nil {
		putArena(rd.ar)
		rd.ar = nil
	}
}

// Parse reads a /metrics answer of at most maxBytes bytes in the format
// the Content-Type header names.
func (rd *Reader) Parse(r io.Reader, contentType string, maxBytes int64) (*Families, error) {
	body, err := bodybuf.Read(r, maxBytes)
	defer body.Release() // decoded families copy what they keep
	if errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	if contentType != "" {
		format = expfmt.Format(contentType)
		if format.FormatType() == expfmt.TypeUnknown {
			return nil, fmt.Errorf("unsupported content type %q", contentType)
		}
	}
	rd.Release()
	rd.ar = getArena()
	f := &rd.fams
	f.byName, f.byRuntime, f.source = rd.ar.byName, rd.ar.byRuntime, rd.ar.source
	f.GoVersion = ""
	if format.FormatType() == expfmt.TypeProtoDelim {
		d := protoDecoder{a: rd.ar, scheme: model.LegacyValidation, keep: rd.Keep, seen: rd.seen}
		if format.ToEscapingScheme() == model.NoEscaping {
			d.scheme = model.UTF8Validation
		}
		err := d.decode(body.B, f.put)
		rd.seen = d.seen
		if err != nil {
			return nil, fmt.Errorf("parsing /metrics: %w", err)
		}
		return f, nil
	}
	dec := expfmt.NewDecoder(bytes.NewReader(body.B), format)
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing /metrics: %w", err)
		}
		f.put(mf, nil)
	}
	return f, nil
}

// Parse reads a /metrics answer into new values; see Reader.Parse. The
// protobuf arena stays with the answer.
func Parse(r io.Reader, contentType string, maxBytes int64) (*Families, error) {
	var rd Reader
	return rd.Parse(r, contentType, maxBytes)
}

// put adds a decoded family; fam, when not nil, is its entry in the
// process's table of known families.
func (f *Families) put(mf *dto.MetricFamily, fam *family) {
	name := mf.GetName()
	f.byName[name] = mf
	if name == "go_info" {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "version" {
					f.GoVersion = l.GetValue()
				}
			}
		}
		return
	}
	if fam == nil {
		fam = knownFamilyString(name, mf.GetHelp())
	}
	src, ok := fam.src, fam.ok
	if !ok || len(mf.GetMetric()) != 1 {
		return
	}
	f.source[name] = src
	// Where two families name one source (a memstats family "Equals to" a
	// runtime metric that has its own family), the values agree; the one
	// kept must not depend on the order a decoder yields families in: the
	// family "Sourced from" the metric wins, then the smaller name.
	if old, dup := f.byRuntime[src]; !dup || preferred(mf, old) {
		f.byRuntime[src] = mf
	}
}

// preferred reports whether a should stand for a source rather than b.
func preferred(a, b *dto.MetricFamily) bool {
	da, db := strings.Contains(a.GetHelp(), "Sourced from"), strings.Contains(b.GetHelp(), "Sourced from")
	if da != db {
		return da
	}
	return a.GetName() < b.GetName()
}

// FamilySource returns the runtime/metrics name a family carries, from its
// HELP text or, for the few families whose HELP does not say, its name.
func FamilySource(name, help string) (string, bool) {
	f := knownFamilyString(name, help)
	return f.src, f.ok
}

// familySource is FamilySource worked out from the HELP text.
func familySource(name, help string) (string, bool) {
	if src, ok := helpSource(help); ok {
		// client_golang writes /memory/classes/total:byte for memstats Sys.
		if strings.HasSuffix(src, ":byte") {
			src += "s"
		}
		return src, true
	}
	src, ok := knownFamilies[name]
	return src, ok
}

// Source returns the runtime/metrics name family name carries, if it
// carries one.
func (f *Families) Source(name string) (string, bool) {
	s, ok := f.source[name]
	return s, ok
}

// Family returns a family by name.
func (f *Families) Family(name string) (*dto.MetricFamily, bool) {
	mf, ok := f.byName[name]
	return mf, ok
}

// Names lists every family's name, sorted.
func (f *Families) Names() []string {
	out := make([]string, 0, len(f.byName))
	for n := range f.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Scalar returns the value of a gauge, counter or untyped family with one
// metric.
func Scalar(mf *dto.MetricFamily) (float64, bool) {
	if mf == nil || len(mf.GetMetric()) != 1 {
		return 0, false
	}
	m := mf.GetMetric()[0]
	switch mf.GetType() {
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue(), m.GetGauge() != nil
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue(), m.GetCounter() != nil
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue(), m.GetUntyped() != nil
	}
	return 0, false
}

// Int returns a runtime/metrics value as an integer.
func (f *Families) Int(name string) (int64, bool) {
	v, ok := f.Float(name)
	if !ok || math.IsNaN(v) || v < math.MinInt64 || v >= math.MaxInt64 {
		if ok && v >= math.MaxInt64 {
			return math.MaxInt64, true
		}
		return 0, false
	}
	return int64(v), true
}

// Float returns a runtime/metrics value.
func (f *Families) Float(name string) (float64, bool) {
	return Scalar(f.byRuntime[name])
}

// Histogram returns a runtime/metrics histogram in runtime/metrics' layout,
// at the resolution the source serves (client_golang re-buckets seconds
// histograms to powers of ten).
func (f *Families) Histogram(name string) ([]float64, []uint64, bool) {
	mf := f.byRuntime[name]
	if mf == nil || mf.GetType() != dto.MetricType_HISTOGRAM {
		return nil, nil, false
	}
	return Buckets(mf.GetMetric()[0].GetHistogram())
}

// Buckets turns a Prometheus histogram's cumulative buckets into
// runtime/metrics' layout: boundaries -Inf, le..., +Inf and per-bucket
// counts. It refuses buckets that are not increasing.
func Buckets(h *dto.Histogram) ([]float64, []uint64, bool) {
	if h == nil {
		return nil, nil, false
	}
	bs := h.GetBucket()
	boundaries := make([]float64, 0, len(bs)+2)
	counts := make([]uint64, 0, len(bs)+1)
	boundaries = append(boundaries, math.Inf(-1))
	var prev uint64
	prevLE := math.Inf(-1)
	for _, b := range bs {
		le, c := b.GetUpperBound(), b.GetCumulativeCount()
		if le <= prevLE || c < prev || math.IsNaN(le) {
			return nil, nil, false
		}
		if math.IsInf(le, 1) {
			break
		}
		boundaries = append(boundaries, le)
		counts = append(counts, c-prev)
		prev, prevLE = c, le
	}
	total := h.GetSampleCount()
	if total < prev {
		return nil, nil, false
	}
	boundaries = append(boundaries, math.Inf(1))
	counts = append(counts, total-prev)
	return boundaries, counts, true
}
