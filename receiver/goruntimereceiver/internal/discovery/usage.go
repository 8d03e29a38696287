package discovery // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/discovery"

import (
	"os"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/procfs"
)

// Usage is a process's use of the host, from /proc.
type Usage struct {
	// CPUSeconds is user plus system CPU time.
	CPUSeconds float64
	// RSS and VSize are resident and virtual memory in bytes.
	RSS, VSize int64
	Threads    int64
	// FDs is the count of open file descriptors; FDsOK is false when
	// they could not be read (another user's process).
	FDs   int64
	FDsOK bool
}

var pageSize = int64(os.Getpagesize())

// ReadUsage reads the use of process key; ok is false when that process no
// longer runs (its PID is gone or names another process).
func ReadUsage(p *procfs.FS, key Key) (u Usage, ok bool) {
	st, err := p.Stat(key.PID)
	if err != nil || st.StartTicks != key.Start || st.State == 'Z' {
		return Usage{}, false
	}
	u = Usage{
		CPUSeconds: float64(st.UTime+st.STime) / ticksPerSecond,
		RSS:        st.RSSPages * pageSize,
		VSize:      int64(st.VSize), //nolint:gosec // virtual sizes fit in int64
		Threads:    st.Threads,
	}
	if n, err := p.CountFDs(key.PID); err == nil {
		u.FDs, u.FDsOK = int64(n), true
	}
	return u, true
}
