package promtext

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protowire"
)

// The delimited protobuf exposition (a varint length, then one
// io.prometheus.client.MetricFamily, repeated) is decoded here rather than
// by expfmt: expfmt decodes through the reflection-driven protobuf runtime
// into freshly allocated messages, which was a quarter of a scrape's CPU
// and, through the garbage it leaves, most of the rest of its GC. This
// decoder fills client_model's types from an arena that is reused from one
// answer to the next; family names and HELP texts come from the process's
// table of known families (known.go) and label strings are interned in the
// arena, as all of them repeat from scrape to scrape. A Reader's Keep skips
// the metrics of families nobody reads. It keeps only the fields the receiver
// reads: a family's name, HELP, type and metrics; a metric's labels, gauge,
// counter, untyped and summary values and its classic histogram (count,
// sum, buckets). Everything else (exemplars, native histogram buckets,
// created timestamps, units) is checked for well-formed encoding and
// skipped. FuzzProtoMatchesExpfmt holds it to expfmt's answer.

// internLimit bounds an arena's string table: a target whose label values
// never repeat would otherwise grow it without end. Strings longer than
// internMaxLen are not interned at all, so the table's bytes are bounded
// too (a target could otherwise leave a new megabyte label value in it on
// every scrape).
const (
	internLimit  = 1 << 14
	internMaxLen = 256
)

// slab hands out values it keeps from one answer to the next.
type slab[T any] struct {
	items []*T
	n     int
}

// next returns a value for the caller to reset and fill.
func (s *slab[T]) next() *T {
	if s.n == len(s.items) {
		// Allocated in chunks: a cold arena fills in a few allocations.
		chunk := make([]T, max(16, len(s.items)/2))
		for i := range chunk {
			s.items = append(s.items, &chunk[i])
		}
	}
	p := s.items[s.n]
	s.n++
	return p
}

// arena holds everything one decoded answer points to.
type arena struct {
	fams       slab[dto.MetricFamily]
	metrics    slab[dto.Metric]
	labels     slab[dto.LabelPair]
	gauges     slab[dto.Gauge]
	counters   slab[dto.Counter]
	untyped    slab[dto.Untyped]
	summaries  slab[dto.Summary]
	quantiles  slab[dto.Quantile]
	histograms slab[dto.Histogram]
	buckets    slab[dto.Bucket]
	strs       slab[string]
	floats     slab[float64]
	uints      slab[uint64]
	types      slab[dto.MetricType]
	intern     map[string]string
	// The maps a Families indexes the answer with (text answers too), here
	// so that they are shared like the rest rather than kept per target.
	byName, byRuntime map[string]*dto.MetricFamily
	source            map[string]string
}

// arenas holds a few arenas for all targets to share: a scrape holds one
// only while it decodes and records, so a few serve many targets. Unlike a
// sync.Pool it is not emptied by garbage collection: targets scraped once
// a second would otherwise find it empty after most cycles and decode into
// a cold arena, which costs more than the protobuf runtime.
var arenas = make(chan *arena, 32)

// arenaLimit is the most values an arena keeps for the next answer; an
// answer that needed more (a target serving many series) leaves its arena
// to the garbage collector.
const arenaLimit = 1 << 14

func getArena() *arena {
	select {
	case a := <-arenas:
		return a
	default:
		return &arena{
			intern: make(map[string]string, 512),
			byName: map[string]*dto.MetricFamily{}, byRuntime: map[string]*dto.MetricFamily{}, source: map[string]string{},
		}
	}
}

func putArena(a *arena) {
	a.reset()
	if len(a.fams.items)+len(a.metrics.items)+len(a.labels.items)+len(a.buckets.items)+len(a.quantiles.items)+
		len(a.floats.items)+len(a.uints.items)+len(a.strs.items) > arenaLimit {
		return
	}
	select {
	case arenas <- a:
	default:
	}
}

// reset makes every value the arena handed out available again.
func (a *arena) reset() {
	a.fams.n, a.metrics.n, a.labels.n = 0, 0, 0
	a.gauges.n, a.counters.n, a.untyped.n = 0, 0, 0
	a.summaries.n, a.quantiles.n, a.histograms.n, a.buckets.n = 0, 0, 0, 0
	a.strs.n, a.floats.n, a.uints.n, a.types.n = 0, 0, 0, 0
	if len(a.intern) > internLimit {
		clear(a.intern)
	}
	if len(a.byName) > familiesLimit {
		// An answer with many families leaves no big maps behind.
		a.byName, a.byRuntime, a.source = map[string]*dto.MetricFamily{}, map[string]*dto.MetricFamily{}, map[string]string{}
	} else {
		clear(a.byName)
		clear(a.byRuntime)
		clear(a.source)
	}
}

// familiesLimit is the most families an arena's maps keep room for.
const familiesLimit = 1024

func (a *arena) str(b []byte) *string {
	s, ok := a.intern[string(b)]
	if !ok {
		s = string(b)
		if len(s) <= internMaxLen {
			a.intern[s] = s
		}
	}
	p := a.strs.next()
	*p = s
	return p
}

func (a *arena) float(v uint64) *float64 {
	p := a.floats.next()
	*p = math.Float64frombits(v)
	return p
}

func (a *arena) uint(v uint64) *uint64 {
	p := a.uints.next()
	*p = v
	return p
}

// protoDecoder reads one delimited protobuf answer.
type protoDecoder struct {
	a      *arena
	scheme model.ValidationScheme
	// keep, when set, says which families to decode.
	keep func(name, help string) bool
	// seen is the Reader's memory of the last answer, by position; ord is
	// the position of the family being decoded.
	seen []seenFamily
	ord  int
}

// decode reads every family in body and hands each to add, with its entry
// in the table of known families when it has a name and HELP.
func (d *protoDecoder) decode(body []byte, add func(*dto.MetricFamily, *family)) error {
	for len(body) > 0 {
		size, n := protowire.ConsumeVarint(body)
		if n < 0 {
			return fmt.Errorf("family length: %w", protowire.ParseError(n))
		}
		body = body[n:]
		if size > uint64(len(body)) {
			return fmt.Errorf("family of %d bytes with %d left: %w", size, len(body), io.ErrUnexpectedEOF)
		}
		mf := d.family()
		fam, kept, err := d.familyFields(body[:size], mf)
		if err != nil {
			return err
		}
		body = body[size:]
		d.ord++
		if !kept {
			continue
		}
		if err := d.validate(mf); err != nil {
			return err
		}
		add(mf, fam)
	}
	return nil
}

// lookup finds a family's entry in the table of known families and
// whether it is kept: from what the Reader remembers of the last answer's
// family at this position when its name and HELP are these bytes, else
// from the table and keep, remembered for the next answer.
func (d *protoDecoder) lookup(name, help []byte) (*family, bool) {
	i := d.ord
	if i < len(d.seen) {
		if s := d.seen[i]; s.f.name == string(name) && s.f.help == string(help) {
			return s.f, s.keep
		}
	}
	s := seenFamily{f: knownFamily(name, help), keep: true}
	if d.keep != nil {
		s.keep = d.keep(s.f.name, s.f.help)
	}
	switch {
	case i < len(d.seen):
		d.seen[i] = s
	case i == len(d.seen) && i < seenLimit:
		d.seen = append(d.seen, s)
	}
	return s.f, s.keep
}

// validate applies the checks expfmt applies to every decoded family.
func (d *protoDecoder) validate(mf *dto.MetricFamily) error {
	if !d.scheme.IsValidMetricName(mf.GetName()) {
		return fmt.Errorf("invalid metric name %q", mf.GetName())
	}
	for _, m := range mf.Metric {
		for _, l := range m.Label {
			if !utf8.ValidString(l.GetValue()) {
				return fmt.Errorf("invalid label value %q", l.GetValue())
			}
			if !d.scheme.IsValidLabelName(l.GetName()) {
				return fmt.Errorf("invalid label name %q", l.GetName())
			}
		}
	}
	return nil
}

func (d *protoDecoder) family() *dto.MetricFamily {
	mf := d.a.fams.next()
	metrics := mf.Metric[:0]
	*mf = dto.MetricFamily{}
	mf.Metric = metrics
	return mf
}

// field reads one tag and, for the wire types this decoder reads, its
// value: v for varint and fixed64 fields, sub for length-delimited ones.
// skip is set for any other wire type, whose value has been consumed.
type field struct {
	num  protowire.Number
	typ  protowire.Type
	v    uint64
	sub  []byte
	skip bool
}

// next consumes one field from b and returns the rest. Nearly every field
// of an answer has a one-byte tag and a one-byte length or varint value;
// those are read here, the rest by nextSlow.
func next(b []byte) ([]byte, field, error) {
	if len(b) >= 2 && b[0] < 0x80 && b[0]>>3 != 0 {
		num, typ := protowire.Number(b[0]>>3), protowire.Type(b[0]&7)
		switch {
		case typ == protowire.BytesType && b[1] < 0x80 && int(b[1]) <= len(b)-2:
			end := 2 + int(b[1])
			return b[end:], field{num: num, typ: typ, sub: b[2:end]}, nil
		case typ == protowire.VarintType && b[1] < 0x80:
			return b[2:], field{num: num, typ: typ, v: uint64(b[1])}, nil
		case typ == protowire.Fixed64Type && len(b) >= 9:
			return b[9:], field{num: num, typ: typ, v: binary.LittleEndian.Uint64(b[1:9])}, nil
		}
	}
	return nextSlow(b)
}

// nextSlow is next for any field.
func nextSlow(b []byte) ([]byte, field, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return nil, field{}, protowire.ParseError(n)
	}
	if num > protowire.MaxValidNumber {
		// protowire reads tags up to 2^31-1; the protobuf runtime refuses
		// field numbers past 2^29-1.
		return nil, field{}, fmt.Errorf("field number %d out of range", num)
	}
	b = b[n:]
	f := field{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(b)
	case protowire.Fixed64Type:
		f.v, n = protowire.ConsumeFixed64(b)
	case protowire.BytesType:
		f.sub, n = protowire.ConsumeBytes(b)
	default:
		f.skip = true
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return nil, field{}, protowire.ParseError(n)
	}
	return b[n:], f, nil
}

// is reports whether f is field num of wire type typ; a known number with
// another wire type is an unknown field to protobuf, and skipped.
func (f field) is(num protowire.Number, typ protowire.Type) bool {
	return !f.skip && f.num == num && f.typ == typ
}

// skipped says what the protobuf runtime checks in a field this decoder
// skips: it refuses a packed repeated fixed64 field whose length is not a
// multiple of eight, a packed repeated varint field with a bad varint, and
// a message field whose bytes are not a well-formed message of its type.
type skipped struct {
	fixed64s, varints bool
	msg               *spec
}

// spec lists a message's skipped fields that need more than a well-formed
// tag and value.
type spec map[protowire.Number]skipped

var (
	noSpec        = spec{} // Timestamp, BucketSpan, LabelPair: scalars and strings
	exemplarSpec  = spec{1: {msg: &noSpec}, 3: {msg: &noSpec}}
	counterSpec   = spec{2: {msg: &exemplarSpec}, 3: {msg: &noSpec}}
	summarySpec   = spec{4: {msg: &noSpec}}
	bucketSpec    = spec{3: {msg: &exemplarSpec}}
	histogramSpec = spec{
		9: {msg: &noSpec}, 12: {msg: &noSpec}, // spans
		10: {varints: true}, 13: {varints: true}, // deltas
		11: {fixed64s: true}, 14: {fixed64s: true}, // float counts
		15: {msg: &noSpec}, 16: {msg: &exemplarSpec}, // created timestamp, exemplars
	}
)

// check applies s to a field the decoder does not keep.
func (f field) check(s spec) error {
	k, ok := s[f.num]
	if !ok || f.skip || f.typ != protowire.BytesType {
		return nil
	}
	switch {
	case k.fixed64s:
		if len(f.sub)%8 != 0 {
			return fmt.Errorf("field %d: packed fixed64 values of %d bytes", f.num, len(f.sub))
		}
	case k.varints:
		for b := f.sub; len(b) > 0; {
			_, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", f.num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	case k.msg != nil:
		return wellFormed(f.sub, *k.msg)
	}
	return nil
}

// Each message's fields are read by the same open loop over next: a field
// iterator (closure or struct) measured 12-14% slower over a whole answer.

// wellFormed checks a message this decoder skips as the protobuf runtime
// would decode it.
func wellFormed(b []byte, s spec) error {
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		if err := f.check(s); err != nil {
			return err
		}
	}
	return nil
}

// familyFields decodes a family and reports whether it is kept. The keep
// decision is made at the first metric, which client_golang writes after
// the name and HELP; a family whose metrics come before either is kept.
// Names and HELP texts come from the process's table of known families;
// nothing of a family that is not kept is copied.
func (d *protoDecoder) familyFields(b []byte, mf *dto.MetricFamily) (*family, bool, error) {
	decided, kept := d.keep == nil, true
	var name, help []byte
	var typ int32
	var fam *family
	hasName, hasHelp, hasType := false, false, false
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return nil, false, err
		}
		if f.is(4, protowire.BytesType) && !decided {
			decided = true
			if hasName && hasHelp {
				fam, kept = d.lookup(name, help)
			}
		}
		switch {
		case f.is(1, protowire.BytesType):
			name, hasName, fam = f.sub, true, nil
		case f.is(2, protowire.BytesType):
			help, hasHelp, fam = f.sub, true, nil
		case f.is(3, protowire.VarintType):
			// Kept whatever the value, as the protobuf runtime keeps it.
			typ, hasType = int32(f.v), true
		case f.is(4, protowire.BytesType) && !kept:
			// Skipped unread.
		case f.is(4, protowire.BytesType):
			m := d.a.metrics.next()
			labels := m.Label[:0]
			*m = dto.Metric{}
			m.Label = labels
			if err := d.metricFields(f.sub, m); err != nil {
				return nil, false, err
			}
			mf.Metric = append(mf.Metric, m)
		}
	}
	switch {
	case !decided && hasName && hasHelp:
		// No metrics: decided on the name and HELP alone.
		fam, kept = d.lookup(name, help)
	case !decided:
		kept = d.keep(string(name), string(help))
	case hasName && hasHelp && fam == nil:
		// Decided at the first metric before the name or HELP came, or
		// either came again after it (the last one wins, as in the
		// protobuf runtime).
		fam = knownFamily(name, help)
	}
	if !kept {
		return nil, false, nil
	}
	switch {
	case fam != nil:
		mf.Name, mf.Help = d.a.strs.next(), d.a.strs.next()
		*mf.Name, *mf.Help = fam.name, fam.help
	case hasName:
		mf.Name = d.a.str(name)
	case hasHelp:
		mf.Help = d.a.str(help)
	}
	if hasType {
		p := d.a.types.next()
		*p = dto.MetricType(typ)
		mf.Type = p
	}
	return fam, true, nil
}

func (d *protoDecoder) metricFields(b []byte, m *dto.Metric) error {
	a := d.a
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		switch {
		case f.is(1, protowire.BytesType):
			l := a.labels.next()
			*l = dto.LabelPair{}
			if err := d.labelFields(f.sub, l); err != nil {
				return err
			}
			m.Label = append(m.Label, l)
		case f.is(2, protowire.BytesType):
			// A message field seen twice merges into the first.
			if m.Gauge == nil {
				m.Gauge = a.gauges.next()
				*m.Gauge = dto.Gauge{}
			}
			err = d.valueField(f.sub, &m.Gauge.Value, noSpec)
		case f.is(3, protowire.BytesType):
			if m.Counter == nil {
				m.Counter = a.counters.next()
				*m.Counter = dto.Counter{}
			}
			err = d.valueField(f.sub, &m.Counter.Value, counterSpec)
		case f.is(4, protowire.BytesType):
			if m.Summary == nil {
				m.Summary = a.summaries.next()
				q := m.Summary.Quantile[:0]
				*m.Summary = dto.Summary{}
				m.Summary.Quantile = q
			}
			err = d.summaryFields(f.sub, m.Summary)
		case f.is(5, protowire.BytesType):
			if m.Untyped == nil {
				m.Untyped = a.untyped.next()
				*m.Untyped = dto.Untyped{}
			}
			err = d.valueField(f.sub, &m.Untyped.Value, noSpec)
		case f.is(7, protowire.BytesType):
			if m.Histogram == nil {
				m.Histogram = a.histograms.next()
				bs := m.Histogram.Bucket[:0]
				*m.Histogram = dto.Histogram{}
				m.Histogram.Bucket = bs
			}
			err = d.histogramFields(f.sub, m.Histogram)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *protoDecoder) labelFields(b []byte, l *dto.LabelPair) error {
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		switch {
		case f.is(1, protowire.BytesType):
			l.Name = d.a.str(f.sub)
		case f.is(2, protowire.BytesType):
			l.Value = d.a.str(f.sub)
		}
	}
	return nil
}

// valueField reads the messages whose field 1 is a double: Gauge, Counter
// and Untyped.
func (d *protoDecoder) valueField(b []byte, v **float64, s spec) error {
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		if f.is(1, protowire.Fixed64Type) {
			*v = d.a.float(f.v)
		} else if err := f.check(s); err != nil {
			return err
		}
	}
	return nil
}

func (d *protoDecoder) summaryFields(b []byte, s *dto.Summary) error {
	a := d.a
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		switch {
		case f.is(1, protowire.VarintType):
			s.SampleCount = a.uint(f.v)
		case f.is(2, protowire.Fixed64Type):
			s.SampleSum = a.float(f.v)
		case f.is(3, protowire.BytesType):
			q := a.quantiles.next()
			*q = dto.Quantile{}
			if err := d.quantileFields(f.sub, q); err != nil {
				return err
			}
			s.Quantile = append(s.Quantile, q)
		default:
			if err := f.check(summarySpec); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *protoDecoder) quantileFields(b []byte, q *dto.Quantile) error {
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		switch {
		case f.is(1, protowire.Fixed64Type):
			q.Quantile = d.a.float(f.v)
		case f.is(2, protowire.Fixed64Type):
			q.Value = d.a.float(f.v)
		}
	}
	return nil
}

func (d *protoDecoder) histogramFields(b []byte, h *dto.Histogram) error {
	a := d.a
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		switch {
		case f.is(1, protowire.VarintType):
			h.SampleCount = a.uint(f.v)
		case f.is(2, protowire.Fixed64Type):
			h.SampleSum = a.float(f.v)
		case f.is(3, protowire.BytesType):
			bk := a.buckets.next()
			*bk = dto.Bucket{}
			if err := d.bucketFields(f.sub, bk); err != nil {
				return err
			}
			h.Bucket = append(h.Bucket, bk)
		default:
			if err := f.check(histogramSpec); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *protoDecoder) bucketFields(b []byte, bk *dto.Bucket) error {
	for len(b) > 0 {
		var f field
		var err error
		if b, f, err = next(b); err != nil {
			return err
		}
		switch {
		case f.is(1, protowire.VarintType):
			bk.CumulativeCount = d.a.uint(f.v)
		case f.is(2, protowire.Fixed64Type):
			bk.UpperBound = d.a.float(f.v)
		default:
			if err := f.check(bucketSpec); err != nil {
				return err
			}
		}
	}
	return nil
}
