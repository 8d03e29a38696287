// Package goroutines parses goroutine dumps from /debug/pprof/goroutine:
// debug=2 (one block per goroutine, with its status, wait time and
// creator) and, as a fallback for dumps over the size cap, debug=1 (stacks
// grouped with counts, no statuses).
package goroutines // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/goroutines"

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// ErrTooLarge is returned when a dump is over the size cap.
var ErrTooLarge = errors.New("goroutine dump larger than the cap")

// WaitAge buckets how long a goroutine has been blocked, from the dump's
// ", N minutes" (the runtime prints it from one minute on).
type WaitAge int

// The wait age buckets.
const (
	UnderOneMinute WaitAge = iota
	OneToFiveMinutes
	FiveToThirtyMinutes
	ThirtyMinutesToTwoHours
	OverTwoHours
	NumWaitAges
)

func waitAge(minutes int) WaitAge {
	switch {
	case minutes < 1:
		return UnderOneMinute
	case minutes < 5:
		return OneToFiveMinutes
	case minutes < 30:
		return FiveToThirtyMinutes
	case minutes < 120:
		return ThirtyMinutesToTwoHours
	}
	return OverTwoHours
}

// Summary counts the goroutines of one dump.
type Summary struct {
	// Total is the number of goroutines in the dump.
	Total int
	// ByStatus counts goroutines by status: the wait reason of a blocked
	// goroutine ("chan receive", "select", "sync.Mutex.Lock", "IO wait",
	// ...) or "running", "runnable", "syscall".
	ByStatus map[string]int
	// ByWaitAge counts goroutines by how long they have been blocked.
	ByWaitAge [NumWaitAges]int
	// ByCreator counts goroutines by the function that created them ("" for
	// goroutines with no creator line, such as main). With Grouped dumps it
	// counts by the goroutine's entry function instead.
	ByCreator map[string]int
	// Leaked counts goroutines the runtime marked as leaked (the goroutine
	// leak detector of Go 1.26's experiment).
	Leaked int
	// LockedToThread counts goroutines locked to an OS thread.
	LockedToThread int
	// Grouped is set for a debug=1 dump: no statuses, wait ages or leak
	// marks, and ByCreator holds entry functions.
	Grouped bool
}

// ParseDebug2 reads a debug=2 dump of at most maxBytes bytes.
func ParseDebug2(r io.Reader, maxBytes int64) (*Summary, error) {
	s := &Summary{ByStatus: map[string]int{}, ByCreator: map[string]int{}}
	sc := bufio.NewScanner(io.LimitReader(r, maxBytes+1))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var read int64
	inGoroutine := false
	hadCreator := false
	for sc.Scan() {
		line := sc.Bytes()
		read += int64(len(line)) + 1
		if read > maxBytes+1 {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
		}
		if bytes.HasPrefix(line, []byte("goroutine ")) && bytes.HasSuffix(line, []byte("]:")) {
			if inGoroutine && !hadCreator {
				s.ByCreator[""]++
			}
			if err := s.header(string(line)); err != nil {
				return nil, err
			}
			inGoroutine, hadCreator = true, false
			continue
		}
		if inGoroutine && bytes.HasPrefix(line, []byte("created by ")) {
			s.ByCreator[creator(string(line))]++
			hadCreator = true
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("goroutine dump: a line is longer than 1 MiB")
		}
		return nil, fmt.Errorf("reading goroutine dump: %w", err)
	}
	if read > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
	}
	if inGoroutine && !hadCreator {
		s.ByCreator[""]++
	}
	if s.Total == 0 {
		return nil, errors.New("not a goroutine dump: no goroutine header")
	}
	return s, nil
}

// header reads "goroutine 21 [chan receive, 5 minutes, locked to thread]:"
// (with "(leaked)" where the runtime marks it).
func (s *Summary) header(line string) error {
	open := strings.IndexByte(line, '[')
	if open < 0 {
		return fmt.Errorf("goroutine dump: malformed header %q", truncate(line))
	}
	inner := line[open+1 : len(line)-2]
	s.Total++
	parts := strings.Split(inner, ", ")
	status := strings.TrimSpace(parts[0])
	if strings.Contains(inner, "(leaked)") {
		s.Leaked++
		status = strings.TrimSpace(strings.ReplaceAll(status, "(leaked)", ""))
	}
	minutes := 0
	for _, p := range parts[1:] {
		p = strings.TrimSpace(strings.ReplaceAll(p, "(leaked)", ""))
		switch {
		case strings.HasSuffix(p, " minutes") || strings.HasSuffix(p, " minute"):
			n, err := strconv.Atoi(strings.Fields(p)[0])
			if err == nil && n >= 0 {
				minutes = n
			}
		case p == "locked to thread":
			s.LockedToThread++
		}
	}
	if status == "" {
		status = "unknown"
	}
	s.ByStatus[status]++
	s.ByWaitAge[waitAge(minutes)]++
	return nil
}

// creator reads "created by main.block in goroutine 1" or, before Go 1.21,
// "created by main.block".
func creator(line string) string {
	f := strings.TrimPrefix(line, "created by ")
	if i := strings.Index(f, " in goroutine "); i >= 0 {
		f = f[:i]
	}
	return strings.TrimSpace(f)
}

// ParseDebug1 reads a debug=1 dump ("goroutine profile: total N", then
// "COUNT @ addrs" groups whose last "#" frame is the entry function) of at
// most maxBytes bytes.
func ParseDebug1(r io.Reader, maxBytes int64) (*Summary, error) {
	s := &Summary{ByStatus: map[string]int{}, ByCreator: map[string]int{}, Grouped: true}
	sc := bufio.NewScanner(io.LimitReader(r, maxBytes+1))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var read int64
	count, entry := 0, ""
	flush := func() {
		if count > 0 {
			s.ByCreator[entry] += count
		}
		count, entry = 0, ""
	}
	sawTotal := false
	for sc.Scan() {
		line := sc.Text()
		read += int64(len(line)) + 1
		if read > maxBytes+1 {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
		}
		switch {
		case strings.HasPrefix(line, "goroutine profile: total "):
			n, err := strconv.Atoi(strings.TrimPrefix(line, "goroutine profile: total "))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("goroutine dump: malformed total %q", truncate(line))
			}
			s.Total, sawTotal = n, true
		case strings.Contains(line, " @ "):
			flush()
			countText, _, _ := strings.Cut(line, " @ ")
			n, err := strconv.Atoi(strings.TrimSpace(countText))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("goroutine dump: malformed group %q", truncate(line))
			}
			count = n
		case strings.HasPrefix(line, "#\t"):
			fields := strings.Fields(line)
			if len(fields) >= 3 {
				fn := fields[2]
				if i := strings.LastIndex(fn, "+0x"); i > 0 {
					fn = fn[:i]
				}
				entry = fn
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading goroutine dump: %w", err)
	}
	if !sawTotal {
		return nil, errors.New("not a goroutine dump: no \"goroutine profile: total\" line")
	}
	return s, nil
}

// Top returns the n largest counts of m, and the sum of the rest.
func Top(m map[string]int, n int) (top []KV, rest int) {
	all := make([]KV, 0, len(m))
	for k, v := range m {
		all = append(all, KV{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].Key < all[j].Key
	})
	if len(all) <= n {
		return all, 0
	}
	for _, kv := range all[n:] {
		rest += kv.Count
	}
	return all[:n], rest
}

// KV is a name and its count.
type KV struct {
	Key   string
	Count int
}

func truncate(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
