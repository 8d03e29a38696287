// Package expvar parses the JSON a Go service serves on /debug/vars: the
// runtime's memstats and the service's own numeric variables.
package expvar // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/expvar"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
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
	// Cmdline is the process's command line, when served.
	Cmdline []string
	// Numbers are the numeric variables that include kept, by name; a
	// number inside a JSON object (an expvar.Map) is named "var.key".
	Numbers map[string]float64
}

// Errors the parser returns, wrapped with details.
var (
	ErrTooLarge = errors.New("response larger than the limit")
	ErrNotJSON  = errors.New("not a /debug/vars JSON object")
)

// maxDepth bounds the nesting of user variables that is searched for numbers.
const maxDepth = 4

// Parse reads a /debug/vars answer of at most maxBytes bytes. include
// decides which numeric user variables to keep (nil keeps none).
func Parse(r io.Reader, maxBytes int64, include func(name string) bool) (*Vars, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading /debug/vars: %w", err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	v := &Vars{}
	if raw, ok := top["memstats"]; ok {
		ms := &MemStats{}
		if err := json.Unmarshal(raw, ms); err != nil {
			return nil, fmt.Errorf("memstats: %w", err)
		}
		v.MemStats = ms
	}
	if raw, ok := top["cmdline"]; ok {
		_ = json.Unmarshal(raw, &v.Cmdline) // a service may serve anything under this name
	}
	if include == nil {
		return v, nil
	}
	names := make([]string, 0, len(top))
	for name := range top {
		if name != "memstats" && name != "cmdline" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		collectNumbers(name, top[name], include, 0, v)
	}
	return v, nil
}

// collectNumbers adds the numbers in raw under name (and name.key for
// objects) that include keeps.
func collectNumbers(name string, raw json.RawMessage, include func(string) bool, depth int, v *Vars) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '{':
		if depth >= maxDepth {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return
		}
		for k, sub := range obj {
			collectNumbers(name+"."+k, sub, include, depth+1, v)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !include(name) {
			return
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return
		}
		if v.Numbers == nil {
			v.Numbers = map[string]float64{}
		}
		v.Numbers[name] = f
	}
}
