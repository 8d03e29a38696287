package expvar

import "time"

// Pause is one GC cycle's stop-the-world time from the memstats ring.
type Pause struct {
	// Cycle is the GC cycle's number, counting from 1.
	Cycle uint32
	// Duration is the sum of the cycle's stop-the-world pauses.
	Duration time.Duration
	// End is when the cycle's last pause ended.
	End time.Time
}

// PauseTracker turns successive memstats into the exact list of GC cycles
// that completed between them, from the PauseNs/PauseEnd ring indexed by
// NumGC % 256.
type PauseTracker struct {
	primed     bool
	numGC      uint32
	pauseTotal uint64
}

// PauseUpdate is what changed between two memstats.
type PauseUpdate struct {
	// Pauses are the cycles completed since the last update, oldest first.
	Pauses []Pause
	// Lost counts cycles that completed but fell out of the 256-entry ring
	// before they could be read.
	Lost uint64
	// Restarted is set when the counters went down: the process restarted,
	// and the next counts start a new series.
	Restarted bool
	// First is set on the first update: it primes the tracker and reports
	// no pauses, since the cycles before it have no starting point.
	First bool
}

// Update reads ms and returns the cycles completed since the previous
// call. With no loss, the returned pauses add up exactly to the change in
// PauseTotalNs and their number is exactly the change in NumGC.
func (t *PauseTracker) Update(ms *MemStats, buf []Pause) PauseUpdate {
	if !t.primed || ms.NumGC < t.numGC || ms.PauseTotalNs < t.pauseTotal {
		u := PauseUpdate{First: !t.primed, Restarted: t.primed, Pauses: buf[:0]}
		t.primed, t.numGC, t.pauseTotal = true, ms.NumGC, ms.PauseTotalNs
		return u
	}
	u := PauseUpdate{Pauses: buf[:0]}
	from := t.numGC
	if delta := ms.NumGC - t.numGC; delta > RingSize {
		u.Lost = uint64(delta - RingSize)
		from = ms.NumGC - RingSize
	}
	for c := from; c < ms.NumGC; c++ {
		i := c % RingSize
		u.Pauses = append(u.Pauses, Pause{
			Cycle:    c + 1,
			Duration: time.Duration(ms.PauseNs[i]),
			End:      time.Unix(0, int64(ms.PauseEnd[i])),
		})
	}
	t.numGC, t.pauseTotal = ms.NumGC, ms.PauseTotalNs
	return u
}
