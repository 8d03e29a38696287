// Package identity hashes the identity of metric streams without allocating:
// a stream is its resource attributes, its metric name and its data point
// attributes, and two streams with the same attributes in another order are
// the same stream.
package identity // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/identity"

import (
	"hash/maphash"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// seed is fixed for the process: hashes are only compared within it.
var seed = maphash.MakeSeed()

// Attributes hashes an attribute map independently of the order of its
// entries: the per-entry hashes are summed, and entry hashes are
// well-mixed 64-bit values, so the sum keeps their spread.
func Attributes(m pcommon.Map) uint64 {
	var sum uint64
	for k, v := range m.All() {
		sum += mix(maphash.String(seed, k), value(v))
	}
	return sum
}

// value hashes an attribute value together with its type, so that the
// string "1" and the integer 1 differ.
func value(v pcommon.Value) uint64 {
	var h uint64
	switch v.Type() {
	case pcommon.ValueTypeStr:
		h = maphash.String(seed, v.Str())
	case pcommon.ValueTypeInt:
		h = mix(uint64(v.Int()), 1)
	case pcommon.ValueTypeDouble:
		h = mix(math.Float64bits(v.Double()), 2)
	case pcommon.ValueTypeBool:
		if v.Bool() {
			h = 1
		}
	case pcommon.ValueTypeBytes:
		h = maphash.Bytes(seed, v.Bytes().AsRaw())
	case pcommon.ValueTypeMap:
		h = Attributes(v.Map())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		for i := range s.Len() {
			h = mix(h, value(s.At(i)))
		}
	}
	return mix(h, uint64(v.Type())+0x51)
}

// String hashes a string, such as a metric name.
func String(s string) uint64 { return maphash.String(seed, s) }

// Stream combines the hashes of a resource, a metric name and a data
// point's attributes into the stream's identity.
func Stream(resource, metric, point uint64) uint64 {
	return mix(mix(resource^0x9e3779b97f4a7c15, metric), point)
}

// mix is a 64-bit finaliser-style combination (splitmix64 of a + b·k).
func mix(a, b uint64) uint64 {
	x := a + b*0xbf58476d1ce4e5b9
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
