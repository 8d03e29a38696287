package remotewrite // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/remotewrite"

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
)

// Protobuf keys (field number << 3 | wire type) of prompb.WriteRequest,
// TimeSeries, Label and Sample.
const (
	keyTimeseries = 1<<3 | 2
	keyLabels     = 1<<3 | 2
	keySamples    = 2<<3 | 2
	keyHistograms = 4<<3 | 2
	keyName       = 1<<3 | 2
	keyValue      = 2<<3 | 2
	keySampleVal  = 1<<3 | 1
	keySampleTS   = 2 << 3 // wire type 0, varint
)

// requestBuffers hold encoded requests between batches; snappy has read a
// request before its buffer goes back.
var requestBuffers = sync.Pool{New: func() any { return new([]byte) }}

// appendWriteRequest appends list as a remote write 1.0 WriteRequest, the
// bytes prompb's own Marshal gives, without building prompb structs first:
// the labels are written straight from labels.Labels.
func appendWriteRequest(buf []byte, list []*series) []byte {
	for _, s := range list {
		buf = append(buf, keyTimeseries)
		buf = binary.AppendUvarint(buf, uint64(seriesSize(s)))
		s.labels.Range(func(l labels.Label) {
			n := len(l.Name)
			v := len(l.Value)
			buf = append(buf, keyLabels)
			buf = binary.AppendUvarint(buf, uint64(labelSize(n, v)))
			if n > 0 {
				buf = append(buf, keyName)
				buf = binary.AppendUvarint(buf, uint64(n))
				buf = append(buf, l.Name...)
			}
			if v > 0 {
				buf = append(buf, keyValue)
				buf = binary.AppendUvarint(buf, uint64(v))
				buf = append(buf, l.Value...)
			}
		})
		for _, smp := range s.samples {
			buf = append(buf, keySamples)
			buf = binary.AppendUvarint(buf, uint64(sampleSize(smp.Value, smp.Timestamp)))
			if smp.Value != 0 {
				buf = append(buf, keySampleVal)
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(smp.Value))
			}
			if smp.Timestamp != 0 {
				buf = append(buf, keySampleTS)
				buf = binary.AppendUvarint(buf, uint64(smp.Timestamp)) //nolint:gosec // protobuf int64 is the two's complement varint
			}
		}
		for i := range s.histograms {
			h := &s.histograms[i]
			n := h.Size()
			buf = append(buf, keyHistograms)
			buf = binary.AppendUvarint(buf, uint64(n))
			start := len(buf)
			buf = append(buf, make([]byte, n)...)
			if _, err := h.MarshalToSizedBuffer(buf[start : start+n]); err != nil {
				panic(err) // sized by Size above: cannot fail
			}
		}
	}
	return buf
}

func seriesSize(s *series) int {
	n := 0
	s.labels.Range(func(l labels.Label) {
		ls := labelSize(len(l.Name), len(l.Value))
		n += 1 + uvarintLen(uint64(ls)) + ls
	})
	for _, smp := range s.samples {
		ss := sampleSize(smp.Value, smp.Timestamp)
		n += 1 + uvarintLen(uint64(ss)) + ss
	}
	for i := range s.histograms {
		hs := s.histograms[i].Size()
		n += 1 + uvarintLen(uint64(hs)) + hs
	}
	return n
}

func labelSize(name, value int) int {
	n := 0
	if name > 0 {
		n += 1 + uvarintLen(uint64(name)) + name
	}
	if value > 0 {
		n += 1 + uvarintLen(uint64(value)) + value
	}
	return n
}

func sampleSize(v float64, ts int64) int {
	n := 0
	if v != 0 {
		n += 9
	}
	if ts != 0 {
		n += 1 + uvarintLen(uint64(ts)) //nolint:gosec // as encoded
	}
	return n
}

func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }
