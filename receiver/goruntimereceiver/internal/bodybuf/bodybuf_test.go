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
	r := strings.NewReader(body)
	allocs := testing.AllocsPerRun(10, func() {
		r.Reset(body)
		b, err := Read(r, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
	})
	// A GC may empty the pool between runs; steady reads allocate nothing.
	assert.Less(t, allocs, 1.0, "a released buffer serves the next read")
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
