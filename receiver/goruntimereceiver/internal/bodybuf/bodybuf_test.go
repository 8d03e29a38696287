package bodybuf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadReusesTheBuffer(t *testing.T) {
	var buf Buffer
	body := strings.Repeat("x", 10_000)
	got, err := buf.Read(strings.NewReader(body), 1<<20)
	require.NoError(t, err)
	assert.Equal(t, body, string(got))
	r := strings.NewReader(body)
	allocs := testing.AllocsPerRun(10, func() {
		r.Reset(body)
		if _, err := buf.Read(r, 1<<20); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "a warm buffer allocates nothing")
}

func TestReadStopsPastTheLimit(t *testing.T) {
	var buf Buffer
	_, err := buf.Read(strings.NewReader("0123456789"), 9)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Nil(t, buf.b, "the buffer of an oversized body is not kept")
	got, err := buf.Read(strings.NewReader("0123456789"), 10)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(got), "exactly the limit is fine")
}

func TestReadReportsABrokenBody(t *testing.T) {
	var buf Buffer
	broken := errors.New("connection reset")
	_, err := buf.Read(iotest.TimeoutReader(bytes.NewReader(bytes.Repeat([]byte("y"), 1<<16))), 1<<20)
	require.Error(t, err)
	_, err = buf.Read(iotest.ErrReader(broken), 1<<20)
	require.ErrorIs(t, err, broken)
	assert.Nil(t, buf.b)
}
