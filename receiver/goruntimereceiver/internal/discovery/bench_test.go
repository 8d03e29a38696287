package discovery

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// benchHost starts goProcs Go processes serving /debug/vars (this test
// binary) and others plain processes that are not Go (sleep), so that the
// host has at least goProcs+others processes.
func benchHost(b *testing.B, goProcs, others int) {
	b.Helper()
	var cmds []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	for range goProcs {
		c := exec.Command(os.Args[0], "-test.run=^$")
		c.Env = append(os.Environ(), "DISCOVERY_CHILD=expvar")
		out, err := c.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		cmds = append(cmds, c)
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			b.Fatal(err)
		}
	}
	for range others {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		cmds = append(cmds, c)
	}
}

// cpuTime is this process's user and system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPass measures one discovery pass over a host with 500 processes,
// 100 of them Go services with an HTTP port: "steady" is every pass after
// the first (each process known, nothing probed again), "cold" a first
// pass with nothing known (build information read and every port probed).
// cpu-ms/pass counts this process's CPU time, all goroutines included.
func BenchmarkPass(b *testing.B) {
	benchHost(b, 100, 400)
	b.Run("steady", func(b *testing.B) {
		d, err := New(testSettings())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Pass(context.Background()); err != nil {
			b.Fatal(err)
		}
		var found int
		b.ReportAllocs()
		b.ResetTimer()
		start := cpuTime(b)
		for b.Loop() {
			res, err := d.Pass(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			found = len(res.Processes)
		}
		b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/pass")
		if found < 100 {
			b.Fatalf("found %d Go processes, want at least 100", found)
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		var cpu time.Duration
		s := testSettings()
		s.MaxProbesPerPass = 200
		for b.Loop() {
			d, err := New(s)
			if err != nil {
				b.Fatal(err)
			}
			start := cpuTime(b)
			res, err := d.Pass(context.Background())
			cpu += cpuTime(b) - start
			if err != nil {
				b.Fatal(err)
			}
			if res.Probed < 100 {
				b.Fatalf("probed %d ports, want at least 100", res.Probed)
			}
		}
		b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/pass")
	})
}
