// Package expvar parses the JSON a Go service serves on /debug/vars: the
// runtime's memstats and the service's own numeric variables.
package expvar // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/expvar"

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/bodybuf"
)

// RingSize is the length of memstats' PauseNs and PauseEnd rings.
const RingSize = 256

// MemStats holds the runtime.MemStats fields /debug/vars serves.
type MemStats struct {
	Alloc         uint64
	TotalAlloc    uint64
	Sys           uint64
	Lookups       uint64
	Mallocs       uint64
	Frees         uint64
	HeapAlloc     uint64
	HeapSys       uint64
	HeapIdle      uint64
	HeapInuse     uint64
	HeapReleased  uint64
	HeapObjects   uint64
	StackInuse    uint64
	StackSys      uint64
	MSpanInuse    uint64
	MSpanSys      uint64
	MCacheInuse   uint64
	MCacheSys     uint64
	BuckHashSys   uint64
	GCSys         uint64
	OtherSys      uint64
	NextGC        uint64
	LastGC        uint64
	PauseTotalNs  uint64
	PauseNs       [RingSize]uint64
	PauseEnd      [RingSize]uint64
	NumGC         uint32
	NumForcedGC   uint32
	GCCPUFraction float64
}

// Vars is one parsed /debug/vars answer.
type Vars struct {
	// MemStats is nil when the answer has no memstats.
	MemStats *MemStats
	// Numbers are the numeric variables that include kept, by name; a
	// number inside a JSON object (an expvar.Map) is named "var.key".
	Numbers map[string]float64
}

// Errors the parser returns, wrapped with details.
var (
	ErrTooLarge = bodybuf.ErrTooLarge
	ErrNotJSON  = errors.New("not a /debug/vars JSON object")
)

// maxDepth bounds the nesting of user variables that is searched for numbers.
const maxDepth = 4

// Parser reads /debug/vars answers into the same buffer and values from
// one answer to the next (a pool shared by all targets would be emptied by
// each GC, and 200 targets scraped at once would grow 200 buffers again).
// One target's scrapes share one Parser; it is not safe for concurrent use.
type Parser struct {
	body bodybuf.Buffer
	ms   MemStats
	vars Vars
}

// Parse reads a /debug/vars answer of at most maxBytes bytes. include
// decides which numeric user variables to keep (nil keeps none). The
// result is valid until the next call.
func (p *Parser) Parse(r io.Reader, maxBytes int64, include func(name string) bool) (*Vars, error) {
	body, err := p.body.Read(r, maxBytes)
	if errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading /debug/vars: %w", err)
	}
	return parse(body, include, &p.vars, &p.ms)
}

// Parse reads a /debug/vars answer of at most maxBytes bytes into new
// values. include decides which numeric user variables to keep (nil keeps
// none).
func Parse(r io.Reader, maxBytes int64, include func(name string) bool) (*Vars, error) {
	var p Parser
	return p.Parse(r, maxBytes, include)
}

// parse reads body into v, with ms as the memstats' storage.
func parse(body []byte, include func(string) bool, v *Vars, ms *MemStats) (*Vars, error) {
	v.MemStats = nil
	var numbers map[string]float64 // new each time: the caller may keep it
	s := scanner{b: body}
	var msErr error // the last memstats' error, as only the last counts
	switch s.peek() {
	case 'n':
		// null decodes to no variables at all, as with encoding/json.
		if err := s.literal("null"); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
		}
	case '{':
		err := s.object(0, func(key []byte, plain bool) error {
			switch {
			case plain && string(key) == "memstats" || !plain && unquote(key, plain) == "memstats":
				*ms = MemStats{}
				v.MemStats = ms
				var err error
				msErr, err = readMemStats(&s, ms)
				return err
			case include != nil:
				return collect(&s, unquote(key, plain), include, 0, &numbers)
			default:
				return s.skip(1)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
		}
	default:
		if err := s.skip(0); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
		}
		return nil, fmt.Errorf("%w: the answer is not an object", ErrNotJSON)
	}
	if s.space(); s.i < len(s.b) {
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, s.fail("end of input"))
	}
	if msErr != nil {
		return nil, fmt.Errorf("memstats: %w", msErr)
	}
	v.Numbers = numbers
	return v, nil
}

// collect reads the value under name, keeping the numbers in it (and in
// objects in it, named name.key) that include keeps; a later number of one
// name replaces an earlier one.
func collect(s *scanner, name string, include func(string) bool, depth int, numbers *map[string]float64) error {
	switch c := s.peek(); {
	case c == '{':
		if depth >= maxDepth {
			return s.skip(depth + 1)
		}
		return s.object(depth+1, func(key []byte, plain bool) error {
			return collect(s, name+"."+unquote(key, plain), include, depth+1, numbers)
		})
	case c == '-' || isDigit(c):
		num, err := s.number()
		if err != nil || !include(name) {
			return err
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return nil // out of float64's range: not kept
		}
		if *numbers == nil {
			*numbers = map[string]float64{}
		}
		(*numbers)[name] = f
		return nil
	default:
		return s.skip(depth + 1)
	}
}
