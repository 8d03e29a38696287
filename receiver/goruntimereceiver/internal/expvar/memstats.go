package expvar

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// memStatsFields are the names readMemStats knows, for the case-insensitive
// match encoding/json falls back to.
var memStatsFields = []string{
	"Alloc", "TotalAlloc", "Sys", "Lookups", "Mallocs", "Frees", "HeapAlloc",
	"HeapSys", "HeapIdle", "HeapInuse", "HeapReleased", "HeapObjects",
	"StackInuse", "StackSys", "MSpanInuse", "MSpanSys", "MCacheInuse",
	"MCacheSys", "BuckHashSys", "GCSys", "OtherSys", "NextGC", "LastGC",
	"PauseTotalNs", "PauseNs", "PauseEnd", "NumGC", "NumForcedGC",
	"GCCPUFraction",
}

// field returns the memstats field name's own spelling and where it is
// stored: exactly one of the pointers is not nil, or none for a field
// MemStats does not hold.
func (ms *MemStats) field(name string) (canon string, u64 *uint64, u32 *uint32, f64 *float64, ring *[RingSize]uint64) {
	switch name {
	case "Alloc":
		return "Alloc", &ms.Alloc, nil, nil, nil
	case "TotalAlloc":
		return "TotalAlloc", &ms.TotalAlloc, nil, nil, nil
	case "Sys":
		return "Sys", &ms.Sys, nil, nil, nil
	case "Lookups":
		return "Lookups", &ms.Lookups, nil, nil, nil
	case "Mallocs":
		return "Mallocs", &ms.Mallocs, nil, nil, nil
	case "Frees":
		return "Frees", &ms.Frees, nil, nil, nil
	case "HeapAlloc":
		return "HeapAlloc", &ms.HeapAlloc, nil, nil, nil
	case "HeapSys":
		return "HeapSys", &ms.HeapSys, nil, nil, nil
	case "HeapIdle":
		return "HeapIdle", &ms.HeapIdle, nil, nil, nil
	case "HeapInuse":
		return "HeapInuse", &ms.HeapInuse, nil, nil, nil
	case "HeapReleased":
		return "HeapReleased", &ms.HeapReleased, nil, nil, nil
	case "HeapObjects":
		return "HeapObjects", &ms.HeapObjects, nil, nil, nil
	case "StackInuse":
		return "StackInuse", &ms.StackInuse, nil, nil, nil
	case "StackSys":
		return "StackSys", &ms.StackSys, nil, nil, nil
	case "MSpanInuse":
		return "MSpanInuse", &ms.MSpanInuse, nil, nil, nil
	case "MSpanSys":
		return "MSpanSys", &ms.MSpanSys, nil, nil, nil
	case "MCacheInuse":
		return "MCacheInuse", &ms.MCacheInuse, nil, nil, nil
	case "MCacheSys":
		return "MCacheSys", &ms.MCacheSys, nil, nil, nil
	case "BuckHashSys":
		return "BuckHashSys", &ms.BuckHashSys, nil, nil, nil
	case "GCSys":
		return "GCSys", &ms.GCSys, nil, nil, nil
	case "OtherSys":
		return "OtherSys", &ms.OtherSys, nil, nil, nil
	case "NextGC":
		return "NextGC", &ms.NextGC, nil, nil, nil
	case "LastGC":
		return "LastGC", &ms.LastGC, nil, nil, nil
	case "PauseTotalNs":
		return "PauseTotalNs", &ms.PauseTotalNs, nil, nil, nil
	case "PauseNs":
		return "PauseNs", nil, nil, nil, &ms.PauseNs
	case "PauseEnd":
		return "PauseEnd", nil, nil, nil, &ms.PauseEnd
	case "NumGC":
		return "NumGC", nil, &ms.NumGC, nil, nil
	case "NumForcedGC":
		return "NumForcedGC", nil, &ms.NumForcedGC, nil, nil
	case "GCCPUFraction":
		return "GCCPUFraction", nil, nil, &ms.GCCPUFraction, nil
	}
	return "", nil, nil, nil, nil
}

// foldedField resolves a memstats key that matched no field exactly as
// encoding/json does next: ignoring case (Unicode simple folding).
func foldedField(key []byte, plain bool) string {
	if !plain {
		key = []byte(unquote(key, plain))
	}
	for _, f := range memStatsFields {
		if bytes.EqualFold([]byte(f), key) {
			return f
		}
	}
	return ""
}

// readMemStats reads the memstats object into ms. A value of the wrong
// type for its field is returned as typeErr and reading goes on, as with
// encoding/json, so that the rest of the answer is still validated; err is
// a syntax error.
func readMemStats(s *scanner, ms *MemStats) (typeErr, err error) {
	switch s.peek() {
	case 'n':
		return nil, s.literal("null") // null leaves memstats empty
	case '{':
	default:
		if err := s.skip(1); err != nil {
			return nil, err
		}
		return errors.New("the value is not an object"), nil
	}
	err = s.object(1, func(key []byte, plain bool) error {
		var name string
		var u64 *uint64
		var u32 *uint32
		var f64 *float64
		var ring *[RingSize]uint64
		if plain {
			name, u64, u32, f64, ring = ms.field(string(key))
		}
		if name == "" {
			name, u64, u32, f64, ring = ms.field(foldedField(key, plain))
		}
		var te error
		var err error
		switch {
		case u64 != nil:
			te, err = readUint(s, name, u64, math.MaxUint64)
		case u32 != nil:
			v := uint64(*u32)
			te, err = readUint(s, name, &v, math.MaxUint32)
			*u32 = uint32(v)
		case f64 != nil:
			te, err = readFloat(s, name, f64)
		case ring != nil:
			te, err = readRing(s, name, ring)
		default:
			err = s.skip(2)
		}
		if te != nil && typeErr == nil {
			typeErr = te
		}
		return err
	})
	return typeErr, err
}

// readUint reads an unsigned integer no larger than limit into v; null
// leaves v as it is.
func readUint(s *scanner, name string, v *uint64, limit uint64) (typeErr, err error) {
	switch c := s.peek(); {
	case c == 'n':
		return nil, s.literal("null")
	case isDigit(c):
		if n, ok := s.uint(); ok {
			if n > limit {
				return fmt.Errorf("%s: %d is not a counter", name, n), nil
			}
			*v = n
			return nil, nil
		}
		fallthrough
	case c == '-':
		num, err := s.number()
		if err != nil {
			return nil, err
		}
		n, perr := strconv.ParseUint(string(num), 10, 64)
		if perr != nil || n > limit {
			return fmt.Errorf("%s: %s is not a counter", name, num), nil
		}
		*v = n
		return nil, nil
	default:
		if err := s.skip(2); err != nil {
			return nil, err
		}
		return fmt.Errorf("%s is not a number", name), nil
	}
}

// readFloat reads a number into v; null leaves v as it is.
func readFloat(s *scanner, name string, v *float64) (typeErr, err error) {
	switch c := s.peek(); {
	case c == 'n':
		return nil, s.literal("null")
	case c == '-' || isDigit(c):
		num, err := s.number()
		if err != nil {
			return nil, err
		}
		f, perr := strconv.ParseFloat(string(num), 64)
		if perr != nil {
			return fmt.Errorf("%s: %s is out of range", name, num), nil
		}
		*v = f
		return nil, nil
	default:
		if err := s.skip(2); err != nil {
			return nil, err
		}
		return fmt.Errorf("%s is not a number", name), nil
	}
}

// readRing reads an array of counters into ring: elements past its length
// are read and dropped, missing ones are zero; null leaves ring as it is.
func readRing(s *scanner, name string, ring *[RingSize]uint64) (typeErr, err error) {
	switch s.peek() {
	case 'n':
		return nil, s.literal("null")
	case '[':
	default:
		if err := s.skip(2); err != nil {
			return nil, err
		}
		return fmt.Errorf("%s is not an array", name), nil
	}
	n := 0
	err = s.array(2, func(i int) error {
		n = i + 1
		if i >= RingSize {
			return s.skip(3)
		}
		te, err := readUint(s, name, &ring[i], math.MaxUint64)
		if te != nil && typeErr == nil {
			typeErr = te
		}
		return err
	})
	for i := n; i < RingSize; i++ {
		ring[i] = 0
	}
	return typeErr, err
}
