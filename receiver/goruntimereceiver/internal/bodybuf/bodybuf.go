// Package bodybuf reads response bodies into a buffer that one target
// reuses from scrape to scrape, so that a steady scrape allocates no body.
package bodybuf // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/bodybuf"

import (
	"errors"
	"io"
)

// ErrTooLarge is returned, with the bytes read so far, for a body longer
// than the limit.
var ErrTooLarge = errors.New("response larger than the limit")

// Buffer holds one target's body buffer.
type Buffer struct{ b []byte }

// Read reads r to its end, up to maxBytes, into the buffer and returns the
// bytes, valid until the next Read. After a failed read (too large, or the
// connection broke) the buffer is dropped rather than kept for the life of
// the target.
func (buf *Buffer) Read(r io.Reader, maxBytes int64) ([]byte, error) {
	b := buf.b[:0]
	buf.b = nil
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > maxBytes {
			return nil, ErrTooLarge
		}
		if err == io.EOF {
			buf.b = b
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
