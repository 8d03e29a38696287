package bodybuf

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadReusesBuffers(t *testing.T) {
	body := strings.Repeat("x", 10_000)
	b, err := Read(strings.NewReader(body), 1<<20)
	require.NoError(t, err)
	assert.Equal(t, body, string(b.B))
	b.Release()
	assert.Nil(t, b.B, "released bytes are not reachable through the body")
	b.Release() // twice is harmless
	// The pool itself may drop buffers (always may under the race
	// detector); what it hands out is reused without allocating.
	buf := make([]byte, 0, 16<<10)
	r := strings.NewReader(body)
	allocs := testing.AllocsPerRun(10, func() {
		r.Reset(body)
		if _, err := readInto(buf[:0], r, 1<<20); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "reading into a buffer with room allocates nothing")
}

func TestReadStopsPastTheLimit(t *testing.T) {
	_, err := Read(strings.NewReader("0123456789"), 9)
	require.ErrorIs(t, err, ErrTooLarge)
	b, err := Read(strings.NewReader("0123456789"), 10)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(b.B), "exactly the limit is fine")
	b.Release()
}

func TestReadReportsABrokenBody(t *testing.T) {
	broken := errors.New("connection reset")
	_, err := Read(iotest.ErrReader(broken), 1<<20)
	require.ErrorIs(t, err, broken)
}

func TestBufferKeepsItsBytesUntilTheNextRead(t *testing.T) {
	var buf Buffer
	got, err := buf.Read(strings.NewReader("first"), 100)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))
	_, err = buf.Read(strings.NewReader(strings.Repeat("x", 200)), 100)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Nil(t, buf.b, "an oversized body's buffer is not kept")
	got, err = buf.Read(strings.NewReader("second"), 100)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
}
