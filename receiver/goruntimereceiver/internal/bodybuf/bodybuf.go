// Package bodybuf reads bounded response bodies into reused buffers, so
// that a steady scrape allocates no body: a pool shared by every target for
// large bodies (the buffers held at rest are those of the scrapes under
// way), or a Buffer of one target's own for small ones.
package bodybuf // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/bodybuf"

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrTooLarge is wrapped, with the limit, in the error for a body longer
// than the limit.
var ErrTooLarge = errors.New("response larger than the limit")

// maxPooled is the largest buffer given back to the pool: a rare huge
// answer does not stay allocated.
const maxPooled = 4 << 20

var pool = sync.Pool{New: func() any { return new([]byte) }}

// Body is a read body; Release gives its buffer back once its bytes are no
// longer used.
type Body struct {
	B   []byte
	buf *[]byte
}

// Release returns the buffer to the pool; B must not be used after it.
func (b *Body) Release() {
	if b.buf == nil {
		return
	}
	if cap(b.B) <= maxPooled {
		*b.buf = b.B[:0]
		pool.Put(b.buf)
	}
	b.B, b.buf = nil, nil
}

// Buffer is one owner's own buffer, kept from read to read: for small
// bodies read by many targets at once (/debug/vars), where a pool emptied
// by each GC would make every burst of scrapes grow new buffers again.
type Buffer struct{ b []byte }

// Read reads r to its end, up to maxBytes, into the buffer; the bytes are
// valid until the next Read. A failed read drops the buffer.
func (buf *Buffer) Read(r io.Reader, maxBytes int64) ([]byte, error) {
	b, err := readInto(buf.b[:0], r, maxBytes)
	if err != nil {
		buf.b = nil
		return nil, err
	}
	buf.b = b
	return b, nil
}

// Read reads r to its end, up to maxBytes, into a pooled buffer.
func Read(r io.Reader, maxBytes int64) (Body, error) {
	buf := pool.Get().(*[]byte)
	b, err := readInto((*buf)[:0], r, maxBytes)
	if errors.Is(err, ErrTooLarge) {
		return Body{}, err // the oversized buffer is left to the GC
	}
	if err != nil {
		*buf = b[:0]
		pool.Put(buf)
		return Body{}, err
	}
	return Body{B: b, buf: buf}, nil
}

// readInto appends r's bytes to b, up to maxBytes.
func readInto(b []byte, r io.Reader, maxBytes int64) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > maxBytes {
			return b, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
