package promtext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var protoFormat = expfmt.NewFormat(expfmt.TypeProtoDelim)

// encodeFamilies writes families in the delimited protobuf exposition.
func encodeFamilies(tb testing.TB, fams ...*dto.MetricFamily) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, protoFormat)
	for _, mf := range fams {
		require.NoError(tb, enc.Encode(mf))
	}
	return buf.Bytes()
}

// fixtureProto is the captured Go 1.26 response, every runtime metric
// enabled, in the delimited protobuf exposition.
func fixtureProto(tb testing.TB) []byte {
	tb.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "go1.26-runtime-metrics.txt"))
	require.NoError(tb, err)
	f, err := Parse(bytes.NewReader(text), "text/plain; version=0.0.4", 16<<20)
	require.NoError(tb, err)
	var fams []*dto.MetricFamily
	for _, name := range f.Names() {
		mf, _ := f.Family(name)
		fams = append(fams, mf)
	}
	return encodeFamilies(tb, fams...)
}

// kept copies the fields protoDecoder keeps out of a family that the
// protobuf runtime decoded.
func kept(mf *dto.MetricFamily) *dto.MetricFamily {
	out := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}
	for _, m := range mf.Metric {
		km := &dto.Metric{}
		for _, l := range m.Label {
			km.Label = append(km.Label, &dto.LabelPair{Name: l.Name, Value: l.Value})
		}
		if m.Gauge != nil {
			km.Gauge = &dto.Gauge{Value: m.Gauge.Value}
		}
		if m.Counter != nil {
			km.Counter = &dto.Counter{Value: m.Counter.Value}
		}
		if m.Untyped != nil {
			km.Untyped = &dto.Untyped{Value: m.Untyped.Value}
		}
		if s := m.Summary; s != nil {
			km.Summary = &dto.Summary{SampleCount: s.SampleCount, SampleSum: s.SampleSum}
			for _, q := range s.Quantile {
				km.Summary.Quantile = append(km.Summary.Quantile, &dto.Quantile{Quantile: q.Quantile, Value: q.Value})
			}
		}
		if h := m.Histogram; h != nil {
			km.Histogram = &dto.Histogram{SampleCount: h.SampleCount, SampleSum: h.SampleSum}
			for _, b := range h.Bucket {
				km.Histogram.Bucket = append(km.Histogram.Bucket, &dto.Bucket{CumulativeCount: b.CumulativeCount, UpperBound: b.UpperBound})
			}
		}
		out.Metric = append(out.Metric, km)
	}
	return out
}

// checkProtoMatchesExpfmt decodes body with expfmt (the protobuf runtime)
// and with protoDecoder, through a Reader whose arena already holds an
// earlier answer, and fails unless both refuse it or both give the same
// kept fields of the same families in the same order.
func checkProtoMatchesExpfmt(t *testing.T, body []byte, utf8Names bool) {
	t.Helper()
	format := protoFormat
	scheme := model.LegacyValidation
	if utf8Names {
		format += "; escaping=allow-utf-8"
		scheme = model.UTF8Validation
	}
	var want []*dto.MetricFamily
	var wantErr error
	// expfmt allocates whatever length a frame declares before it finds
	// the body too short (a declared 32 TiB ends the process): give it only
	// the frames that fit; the rest is an unexpected end, as it would say.
	fit := body
	for rest := body; len(rest) > 0; {
		size, n := protowire.ConsumeVarint(rest)
		if n < 0 {
			break
		}
		if rest = rest[n:]; size > uint64(len(rest)) {
			fit, wantErr = body[:len(body)-len(rest)-n], io.ErrUnexpectedEOF
			break
		}
		rest = rest[size:]
	}
	dec := expfmt.NewDecoder(bytes.NewReader(fit), format)
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if !errors.Is(err, io.EOF) {
				wantErr = err
			}
			break
		}
		want = append(want, kept(mf))
	}

	a := getArena()
	defer putArena(a)
	// A used arena: what an earlier answer left must not show through. A
	// Keep that keeps everything, so that the families are looked up the
	// way a Reader does, through what it remembers of the earlier answer.
	d := protoDecoder{a: a, scheme: model.UTF8Validation, keep: func(string, string) bool { return true }}
	require.NoError(t, d.decode(seedAnswer, func(*dto.MetricFamily, *family) {}))
	require.NotEmpty(t, d.seen)
	a.reset()
	d.scheme, d.ord = scheme, 0
	var got []*dto.MetricFamily
	gotErr := d.decode(body, func(mf *dto.MetricFamily, _ *family) { got = append(got, mf) })
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("protoDecoder: %v; expfmt: %v", gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%d families, expfmt %d", len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("family %d:\n got  %v\n want %v", i, got[i], want[i])
		}
	}
}

// seedAnswer fills every part of an arena before a fuzzed answer reuses it.
var seedAnswer = func() []byte {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, protoFormat)
	for _, mf := range sampleFamilies() {
		if err := enc.Encode(mf); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}()

// sampleFamilies has one family of every type, with the fields the
// decoder keeps and some it skips (exemplars, native buckets, created
// timestamps, units).
func sampleFamilies() []*dto.MetricFamily {
	ts := timestamppb.New(timestamppb.Now().AsTime())
	ex := &dto.Exemplar{Label: []*dto.LabelPair{{Name: proto.String("trace_id"), Value: proto.String("abc")}}, Value: proto.Float64(1), Timestamp: ts}
	return []*dto.MetricFamily{
		{
			Name: proto.String("c_total"), Help: proto.String("A counter."), Type: dto.MetricType_COUNTER.Enum(), Unit: proto.String("seconds"),
			Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: proto.String("a"), Value: proto.String("1")}}, Counter: &dto.Counter{Value: proto.Float64(3), Exemplar: ex, CreatedTimestamp: ts}, TimestampMs: proto.Int64(5)}},
		},
		{Name: proto.String("g"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(-2.5)}}, {Label: []*dto.LabelPair{{Name: proto.String("b"), Value: proto.String("x")}}, Gauge: &dto.Gauge{}}}},
		{Name: proto.String("u"), Type: dto.MetricType_UNTYPED.Enum(), Metric: []*dto.Metric{{Untyped: &dto.Untyped{Value: proto.Float64(7)}}}},
		{Name: proto.String("s"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{{Summary: &dto.Summary{
			SampleCount: proto.Uint64(4), SampleSum: proto.Float64(1.5), CreatedTimestamp: ts,
			Quantile: []*dto.Quantile{{Quantile: proto.Float64(0.5), Value: proto.Float64(0.2)}, {Quantile: proto.Float64(0.99), Value: proto.Float64(0.9)}},
		}}}},
		{Name: proto.String("h"), Help: proto.String("Sourced from /a/b:seconds."), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(10), SampleSum: proto.Float64(2), CreatedTimestamp: ts, Exemplars: []*dto.Exemplar{ex},
			Bucket: []*dto.Bucket{{CumulativeCount: proto.Uint64(3), UpperBound: proto.Float64(0.1), Exemplar: ex}, {CumulativeCount: proto.Uint64(10), UpperBound: proto.Float64(1)}},
			Schema: proto.Int32(3), ZeroThreshold: proto.Float64(1e-9), ZeroCount: proto.Uint64(1),
			PositiveSpan: []*dto.BucketSpan{{Offset: proto.Int32(-2), Length: proto.Uint32(2)}}, PositiveDelta: []int64{1, -1},
			NegativeSpan: []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(1)}}, NegativeCount: []float64{2},
		}}}},
		{Name: proto.String("gh"), Type: dto.MetricType_GAUGE_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{SampleCountFloat: proto.Float64(2.5), Bucket: []*dto.Bucket{{CumulativeCountFloat: proto.Float64(1), UpperBound: proto.Float64(1)}}}}}},
	}
}

func TestProtoMatchesExpfmt(t *testing.T) {
	checkProtoMatchesExpfmt(t, fixtureProto(t), false)
	checkProtoMatchesExpfmt(t, seedAnswer, false)
	checkProtoMatchesExpfmt(t, seedAnswer, true)
	// Wire-level cases the encoder never writes.
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	frame := func(parts ...[]byte) []byte {
		msg := bytes.Join(parts, nil)
		return append(protowire.AppendVarint(nil, uint64(len(msg))), msg...)
	}
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(tag(num, protowire.BytesType), s)
	}
	name := str(1, "x")
	gauge := func(v float64) []byte {
		inner := protowire.AppendFixed64(tag(1, protowire.Fixed64Type), math.Float64bits(v))
		return protowire.AppendBytes(tag(2, protowire.BytesType), inner)
	}
	metric := func(parts ...[]byte) []byte {
		return protowire.AppendBytes(tag(4, protowire.BytesType), bytes.Join(parts, nil))
	}
	for what, body := range map[string][]byte{
		"empty answer":                 nil,
		"empty family":                 frame(),
		"name twice, last wins":        frame(str(1, "a"), str(1, "b")),
		"type out of the enum":         frame(name, protowire.AppendVarint(tag(3, protowire.VarintType), 99)),
		"type as wrong wire type":      frame(name, protowire.AppendFixed32(tag(3, protowire.Fixed32Type), 1)),
		"gauge twice merges":           frame(name, metric(gauge(1), protowire.AppendBytes(tag(2, protowire.BytesType), nil))),
		"unknown field":                frame(name, protowire.AppendVarint(tag(99, protowire.VarintType), 1)),
		"unknown group":                frame(name, tag(98, protowire.StartGroupType), tag(98, protowire.EndGroupType)),
		"unbalanced group":             frame(name, tag(98, protowire.StartGroupType)),
		"stray end group":              frame(name, tag(98, protowire.EndGroupType)),
		"field number zero":            frame(name, protowire.AppendVarint(nil, 0), []byte{1}),
		"truncated length":             {0x80},
		"length past the end":          append(protowire.AppendVarint(nil, 50), name...),
		"huge length":                  append(protowire.AppendVarint(nil, 1<<45), name...),
		"truncated string":             frame(tag(1, protowire.BytesType), []byte{5, 'a'}),
		"label name invalid":           frame(name, metric(protowire.AppendBytes(tag(1, protowire.BytesType), append(str(1, "a-b"), str(2, "v")...)))),
		"label value not UTF-8":        frame(name, metric(protowire.AppendBytes(tag(1, protowire.BytesType), append(str(1, "a"), str(2, "\xff")...)))),
		"metric name not UTF-8":        frame(str(1, "\xff")),
		"metric name with a dot":       frame(str(1, "a.b")),
		"second family bad":            append(frame(name), frame()...),
		"wire type 7":                  frame(name, []byte{0x0f}),
		"varint overflow":              frame(name, tag(3, protowire.VarintType), bytes.Repeat([]byte{0xff}, 10), []byte{1}),
		"metric with nothing":          frame(name, metric()),
		"fixed64 cut short":            frame(name, metric(protowire.AppendBytes(tag(2, protowire.BytesType), append(tag(1, protowire.Fixed64Type), 1, 2, 3)))),
		"two-byte length":              frame(str(1, "x"+strings.Repeat("y", 200))),
		"two-byte varint":              frame(name, protowire.AppendVarint(tag(3, protowire.VarintType), 300)),
		"length to the last byte":      frame(str(1, "ab")),
		"field number past 2^29-1":     frame(name, metric(protowire.AppendFixed64(tag(protowire.MaxValidNumber+1, protowire.Fixed64Type), 1))),
		"field number 2^29-1":          frame(name, metric(protowire.AppendFixed64(tag(protowire.MaxValidNumber, protowire.Fixed64Type), 1))),
		"histogram with bucket merged": frame(name, metric(protowire.AppendBytes(tag(7, protowire.BytesType), protowire.AppendBytes(tag(3, protowire.BytesType), nil)), protowire.AppendBytes(tag(7, protowire.BytesType), protowire.AppendVarint(tag(1, protowire.VarintType), 3)))),
	} {
		t.Run(what, func(t *testing.T) {
			checkProtoMatchesExpfmt(t, body, false)
			checkProtoMatchesExpfmt(t, body, true)
		})
	}
}

// TestProtoHugeLength: a length prefix far past the body is refused
// without allocating it.
func TestProtoHugeLength(t *testing.T) {
	body := append(protowire.AppendVarint(nil, 1<<45), "abc"...)
	_, err := Parse(bytes.NewReader(body), string(protoFormat), 1<<20)
	require.ErrorContains(t, err, "parsing /metrics: family of 35184372088832 bytes with 3 left")
}

// TestReaderReusesArena parses two different answers with one Reader and
// checks each against a fresh parse: nothing from the first answer shows
// in the second.
func TestReaderReusesArena(t *testing.T) {
	fixture := fixtureProto(t)
	var rd Reader
	for _, body := range [][]byte{fixture, seedAnswer, fixture, encodeFamilies(t, sampleFamilies()[1])} {
		got, err := rd.Parse(bytes.NewReader(body), string(protoFormat), 16<<20)
		require.NoError(t, err)
		fresh, err := Parse(bytes.NewReader(body), string(protoFormat), 16<<20)
		require.NoError(t, err)
		require.Equal(t, fresh.Names(), got.Names())
		for _, n := range fresh.Names() {
			a, _ := fresh.Family(n)
			b, _ := got.Family(n)
			require.True(t, proto.Equal(a, b), n)
		}
		require.Equal(t, fresh.GoVersion, got.GoVersion)
		require.Equal(t, fresh.source, got.source)
		rd.Release()
	}
}

func FuzzProtoMatchesExpfmt(f *testing.F) {
	f.Add(seedAnswer, false)
	fixture := fixtureProto(f)
	f.Add(fixture[:min(len(fixture), 2048)], false)
	f.Add([]byte("\x05\x0a\x03a.b"), true)
	f.Fuzz(func(t *testing.T, body []byte, utf8Names bool) {
		checkProtoMatchesExpfmt(t, body, utf8Names)
	})
}

// BenchmarkReaderProtobuf is a target's steady state: one Reader parsing
// the same answer scrape after scrape, keeping every family ("all") or,
// as a target's model does, the families that carry a runtime/metrics
// source ("sourced").
func BenchmarkReaderProtobuf(b *testing.B) {
	body := fixtureProto(b)
	ct := string(protoFormat)
	for _, tc := range []struct {
		name string
		keep func(name, help string) bool
	}{
		{"all", nil},
		{"sourced", func(name, help string) bool {
			_, ok := FamilySource(name, help)
			return ok
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rd := Reader{Keep: tc.keep}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rd.Parse(bytes.NewReader(body), ct, 16<<20); err != nil {
					b.Fatal(err)
				}
				rd.Release()
			}
		})
	}
}

// TestReaderKeep: with Keep set, the families it keeps decode exactly as
// without it and the others are absent, whatever order a family's fields
// come in.
func TestReaderKeep(t *testing.T) {
	keep := func(name, help string) bool {
		_, ok := FamilySource(name, help)
		return ok && strings.HasPrefix(name, "go_gc")
	}
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(tag(num, protowire.BytesType), s)
	}
	gauge := protowire.AppendBytes(tag(4, protowire.BytesType), protowire.AppendBytes(tag(2, protowire.BytesType), protowire.AppendFixed64(tag(1, protowire.Fixed64Type), math.Float64bits(3))))
	frame := func(parts ...[]byte) []byte {
		msg := bytes.Join(parts, nil)
		return append(protowire.AppendVarint(nil, uint64(len(msg))), msg...)
	}
	help := str(2, "Sourced from /gc/x:bytes.")
	body := bytes.Join([][]byte{
		fixtureProto(t),
		frame(gauge, str(1, "go_x_metrics_first"), help), // kept: undecided at its metric
		frame(str(1, "go_x_help_last"), gauge, help),     // kept: no HELP yet at its metric
		frame(str(1, "go_other"), help, gauge),           // dropped
		frame(str(1, "go_gc_no_metrics"), help),          // kept, nothing to decode
	}, nil)
	full, err := Parse(bytes.NewReader(body), string(protoFormat), 16<<20)
	require.NoError(t, err)
	rd := Reader{Keep: keep}
	got, err := rd.Parse(bytes.NewReader(body), string(protoFormat), 16<<20)
	require.NoError(t, err)
	var want []string
	for _, n := range full.Names() {
		mf, _ := full.Family(n)
		if keep(n, mf.GetHelp()) || n == "go_x_metrics_first" || n == "go_x_help_last" {
			want = append(want, n)
			other, ok := got.Family(n)
			require.True(t, ok, n)
			require.True(t, proto.Equal(mf, other), n)
		}
	}
	require.Greater(t, len(want), 10)
	require.Less(t, len(want), len(full.Names()))
	require.Equal(t, want, got.Names())
	rd.Release()
}

// TestReaderRemembersFamilies: a Reader asks Keep once per family of an
// answer served again and again, asks again for the families that moved
// when a new one comes first, decodes what a fresh Reader decodes, and
// remembers at most seenLimit positions.
func TestReaderRemembersFamilies(t *testing.T) {
	asked := 0
	keep := func(name, help string) bool {
		asked++
		_, ok := FamilySource(name, help)
		return ok
	}
	parse := func(rd *Reader, body []byte) *Families {
		t.Helper()
		got, err := rd.Parse(bytes.NewReader(body), string(protoFormat), 16<<20)
		require.NoError(t, err)
		return got
	}
	body := fixtureProto(t)
	rd := Reader{Keep: keep}
	served := len(parse(&Reader{}, body).Names())
	parse(&rd, body)
	rd.Release()
	require.Equal(t, served, asked)
	parse(&rd, body)
	rd.Release()
	require.Equal(t, served, asked, "Keep asked again for an answer served again")

	first := encodeFamilies(t, &dto.MetricFamily{
		Name: proto.String("go_aaa_first_bytes"), Help: proto.String("Sourced from /x/first:bytes."), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}},
	})
	moved := slices.Concat(first, body)
	asked = 0
	got := parse(&rd, moved)
	require.Equal(t, served+1, asked, "every family moved one place")
	fresh := parse(&Reader{Keep: keep}, moved)
	require.Equal(t, fresh.Names(), got.Names())
	for _, n := range fresh.Names() {
		a, _ := fresh.Family(n)
		b, _ := got.Family(n)
		require.True(t, proto.Equal(a, b), n)
		sa, _ := fresh.Source(n)
		sb, _ := got.Source(n)
		require.Equal(t, sa, sb, n)
	}
	rd.Release()

	var many []*dto.MetricFamily
	for i := range seenLimit + 10 {
		many = append(many, &dto.MetricFamily{
			Name: proto.String(fmt.Sprintf("go_many_%d", i)), Help: proto.String("Not a runtime metric."), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}},
		})
	}
	parse(&rd, encodeFamilies(t, many...))
	rd.Release()
	require.Len(t, rd.seen, seenLimit)
}

// TestFamiliesFollowTheirHelp: a family's source and keep decision follow
// the HELP it is served with, from one answer to the next and between
// targets serving one name with different HELP texts (Go versions).
func TestFamiliesFollowTheirHelp(t *testing.T) {
	keep := func(name, help string) bool {
		_, ok := FamilySource(name, help)
		return ok
	}
	a, b := Reader{Keep: keep}, Reader{Keep: keep}
	answer := func(help string) []byte {
		return encodeFamilies(t, &dto.MetricFamily{
			Name: proto.String("go_x_bytes"), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}},
		})
	}
	for i, step := range []struct{ helpA, helpB, srcA, srcB string }{
		{"Sourced from /x/a:bytes.", "Sourced from /x/b:bytes.", "/x/a:bytes", "/x/b:bytes"},
		{"Sourced from /x/a:bytes.", "Sourced from /x/b:bytes.", "/x/a:bytes", "/x/b:bytes"},
		{"Not a runtime metric.", "Sourced from /x/a:bytes.", "", "/x/a:bytes"},
		{"Sourced from /x/a:bytes.", "Not a runtime metric.", "/x/a:bytes", ""},
	} {
		for _, r := range []struct {
			rd        *Reader
			help, src string
		}{{&a, step.helpA, step.srcA}, {&b, step.helpB, step.srcB}} {
			got, err := r.rd.Parse(bytes.NewReader(answer(r.help)), string(protoFormat), 1<<20)
			require.NoError(t, err)
			src, ok := got.Source("go_x_bytes")
			require.Equal(t, r.src != "", ok, "step %d", i)
			require.Equal(t, r.src, src, "step %d", i)
			mf, kept := got.Family("go_x_bytes")
			require.Equal(t, r.src != "", kept, "step %d", i)
			if kept {
				require.Equal(t, r.help, mf.GetHelp(), "step %d", i)
			}
			r.rd.Release()
		}
	}
}

// TestKnownFamiliesBounded: the process's table of families stays within
// its bounds when targets serve ever new names, or one name with ever new
// HELP texts, and still answers right.
func TestKnownFamiliesBounded(t *testing.T) {
	for i := range knownLimit + 100 {
		f := knownFamilyString(fmt.Sprintf("go_new_%d", i), "Sourced from /x/y:bytes.")
		require.Equal(t, "/x/y:bytes", f.src)
	}
	for i := range 3 * maxHelps {
		help := fmt.Sprintf("Sourced from /x/v%d:bytes.", i)
		f := knownFamily([]byte("go_one_name"), []byte(help))
		require.Equal(t, fmt.Sprintf("/x/v%d:bytes", i), f.src)
	}
	known.RLock()
	assert.Len(t, known.byName["go_one_name"], maxHelps)
	known.RUnlock()
	long := strings.Repeat("x", knownMaxLen)
	for i := range 100 {
		f := knownFamilyString(fmt.Sprintf("go_long_%d", i), long)
		require.Equal(t, long, f.help)
	}
	big := strings.Repeat("y", knownMaxLen/2)
	for i := range 2 * knownBytes / len(big) {
		f := knownFamilyString(fmt.Sprintf("go_big_%d", i), big)
		require.Equal(t, big, f.help)
	}
	known.RLock()
	defer known.RUnlock()
	assert.LessOrEqual(t, known.n, knownLimit)
	assert.LessOrEqual(t, known.bytes, knownBytes)
	total, bytes := 0, 0
	for name, vs := range known.byName {
		total += len(vs)
		for _, f := range vs {
			bytes += len(f.name) + len(f.help)
			assert.NotEqual(t, long, f.help, name)
		}
	}
	assert.Equal(t, known.n, total, "the count is of what the table holds")
	assert.Equal(t, known.bytes, bytes, "the bytes are of what the table holds")
}

// TestReadersInParallel: targets decode at once, sharing the arenas and
// the table of known families (run with -race).
func TestReadersInParallel(t *testing.T) {
	body := fixtureProto(t)
	want, err := Parse(bytes.NewReader(body), string(protoFormat), 16<<20)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			rd := Reader{Keep: func(name, _ string) bool { return len(name)%4 != g }}
			for range 20 {
				got, err := rd.Parse(bytes.NewReader(body), string(protoFormat), 16<<20)
				if err != nil {
					errs <- err
					return
				}
				for _, n := range got.Names() {
					a, _ := got.Family(n)
					b, _ := want.Family(n)
					if len(n)%4 == g || !proto.Equal(a, b) {
						errs <- fmt.Errorf("reader %d: family %s differs", g, n)
						return
					}
				}
				rd.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLongStringsNotInterned: a label value past internMaxLen is decoded
// but not kept in the arena's table, which a target could otherwise fill
// with a new long value every scrape.
func TestLongStringsNotInterned(t *testing.T) {
	long := strings.Repeat("v", internMaxLen+1)
	body := encodeFamilies(t, &dto.MetricFamily{
		Name: proto.String("x"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{
			Label: []*dto.LabelPair{{Name: proto.String("short"), Value: proto.String("s")}, {Name: proto.String("long"), Value: proto.String(long)}},
			Gauge: &dto.Gauge{Value: proto.Float64(1)},
		}},
	})
	var rd Reader
	got, err := rd.Parse(bytes.NewReader(body), string(protoFormat), 1<<20)
	require.NoError(t, err)
	mf, ok := got.Family("x")
	require.True(t, ok)
	require.Equal(t, long, mf.GetMetric()[0].GetLabel()[1].GetValue())
	require.Contains(t, rd.ar.intern, "short")
	require.NotContains(t, rd.ar.intern, long)
	rd.Release()
}
