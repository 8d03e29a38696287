package discovery

import (
	"bufio"
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"
)

// The test binary is a Go program: started with DISCOVERY_CHILD set, it is
// the process being discovered.
func TestMain(m *testing.M) {
	switch os.Getenv("DISCOVERY_CHILD") {
	case "":
		os.Exit(m.Run())
	case "expvar":
		serve(func(mux *http.ServeMux) {
			mux.Handle("/debug/vars", expvar.Handler())
			mux.HandleFunc("/debug/pprof/", pprof.Index)
		})
	case "raw":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		for {
			c, err := l.Accept()
			if err != nil {
				panic(err)
			}
			_, _ = c.Write([]byte("\x00\x01 not http\r\n\r\n"))
			_ = c.Close()
		}
	case "scan":
		// Discovery as whoever runs this child: prints the result.
		d, err := New(testSettings())
		if err != nil {
			panic(err)
		}
		res, err := d.Pass(context.Background())
		if err != nil {
			panic(err)
		}
		_ = json.NewEncoder(os.Stdout).Encode(res)
	}
}

func serve(routes func(*http.ServeMux)) {
	mux := http.NewServeMux()
	routes(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	panic(http.Serve(l, mux)) //nolint:gosec // test server
}

func testSettings() Settings {
	return Settings{
		ProcRoot:           "/proc",
		MaxPortsPerProcess: 8,
		MaxProbesPerPass:   64,
		ProbeConcurrency:   4,
		Probe:              NewHTTPProber(2 * time.Second).Probe,
	}
}

// child starts a process and returns it and the first line it prints.
func child(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, string) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if strings.HasPrefix(filepath.Base(cmd.Path), "sleep") {
		return cmd, ""
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "child %v printed nothing", cmd.Args)
	return cmd, strings.TrimSpace(line)
}

func goChild(t *testing.T, mode string) (*exec.Cmd, int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DISCOVERY_CHILD="+mode)
	cmd, line := child(t, cmd)
	port, err := strconv.Atoi(line)
	require.NoError(t, err)
	return cmd, port
}

// countingProbes returns test settings that count the probes of one port:
// other processes may come and go on a shared host between passes, so
// only the test's own child is counted.
func countingProbes(port int) (Settings, *atomic.Int64) {
	var probes atomic.Int64
	st := testSettings()
	probe := st.Probe
	st.Probe = func(ctx context.Context, addr netip.AddrPort) ProbeResult {
		if int(addr.Port()) == port {
			probes.Add(1)
		}
		return probe(ctx, addr)
	}
	return st, &probes
}

func find(res Result, pid int) (Process, bool) {
	i := slices.IndexFunc(res.Processes, func(p Process) bool { return p.PID == pid })
	if i < 0 {
		return Process{}, false
	}
	return res.Processes[i], true
}

func TestPassFindsGoProcessesOnly(t *testing.T) {
	goCmd, port := goChild(t, "expvar")
	sleepCmd, _ := child(t, exec.Command("sleep", "60"))
	perl, err := exec.LookPath("perl")
	require.NoError(t, err, "perl (a process that is not Go) is needed: apt-get install -y perl-base")
	perlCmd, perlPort := child(t, exec.Command(perl, "-MIO::Socket::INET", "-e",
		`$|=1; my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:0", Listen => 5) or die; print $s->sockport, "\n"; while (my $c = $s->accept) { close $c }`))
	require.NotEmpty(t, perlPort)

	st, probes := countingProbes(port)
	d, err := New(st)
	require.NoError(t, err)
	res, err := d.Pass(context.Background())
	require.NoError(t, err)

	p, ok := find(res, goCmd.Process.Pid)
	require.True(t, ok, "the Go child %d is found among %d processes", goCmd.Process.Pid, len(res.Processes))
	assert.Equal(t, runtime.Version(), p.Build.GoVersion)
	assert.Equal(t, filepath.Base(os.Args[0]), p.ExeName)
	assert.NotEmpty(t, p.Owner)
	assert.WithinDuration(t, time.Now(), p.StartTime, time.Minute)
	assert.Equal(t, []Endpoint{{
		Addr:    netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), //nolint:gosec // a port
		Sources: []string{target.SourceExpvar, target.SourceGoroutines},
	}}, p.Endpoints)

	for name, pid := range map[string]int{"sleep": sleepCmd.Process.Pid, "perl": perlCmd.Process.Pid, "self": os.Getpid()} {
		_, found := find(res, pid)
		assert.False(t, found, "%s (%d) is not a discovered Go process", name, pid)
	}

	// The second pass knows the process: it does not probe it again.
	require.Equal(t, int64(1), probes.Load())
	res2, err := d.Pass(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), probes.Load())
	p2, ok := find(res2, goCmd.Process.Pid)
	require.True(t, ok)
	assert.Equal(t, p.Endpoints, p2.Endpoints)

	// An exited process is reported gone once, and forgotten.
	require.NoError(t, goCmd.Process.Kill())
	_ = goCmd.Wait()
	res3, err := d.Pass(context.Background())
	require.NoError(t, err)
	_, found := find(res3, goCmd.Process.Pid)
	assert.False(t, found)
	assert.Contains(t, res3.Gone, p.Key)
	res4, err := d.Pass(context.Background())
	require.NoError(t, err)
	assert.NotContains(t, res4.Gone, p.Key)
	_, known := d.procs[p.Key]
	assert.False(t, known, "no state is kept for an exited process")
}

func TestNonHTTPPortIsProbedOnce(t *testing.T) {
	cmd, port := goChild(t, "raw")
	st, probes := countingProbes(port)
	d, err := New(st)
	require.NoError(t, err)
	res, err := d.Pass(context.Background())
	require.NoError(t, err)
	p, ok := find(res, cmd.Process.Pid)
	require.True(t, ok)
	assert.Empty(t, p.Endpoints, "a process with no Go endpoint is still reported")
	assert.Equal(t, int64(1), probes.Load())
	e := d.procs[p.Key]
	require.Len(t, e.ports, 1)
	for _, ps := range e.ports {
		assert.True(t, ps.probed)
		assert.False(t, ps.result.HTTP)
	}
	for range 2 {
		_, err := d.Pass(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), probes.Load(), "a port that is not HTTP is left alone")
}

func TestFilters(t *testing.T) {
	cmd, port := goChild(t, "expvar")
	exe := regexp.MustCompile(regexp.QuoteMeta(filepath.Base(os.Args[0])))
	for name, tc := range map[string]struct {
		s         func(*Settings)
		found     bool
		endpoints int
	}{
		"exclude executable": {func(s *Settings) { s.Exclude.Executables = append(s.Exclude.Executables, exe) }, false, 0},
		"include executable": {func(s *Settings) { s.Include.Executables = append(s.Include.Executables, exe) }, true, 1},
		"include other user": {func(s *Settings) { s.Include.Users = append(s.Include.Users, regexp.MustCompile("no-such-user")) }, false, 0},
		"exclude own uid": {func(s *Settings) {
			s.Exclude.Users = append(s.Exclude.Users, regexp.MustCompile(strconv.Itoa(os.Getuid())))
		}, false, 0},
		"include module": {func(s *Settings) {
			s.Include.Modules = append(s.Include.Modules, regexp.MustCompile(`github\.com/otelcol-goruntime/.*`))
		}, true, 1},
		"exclude port":       {func(s *Settings) { s.Exclude.Ports = append(s.Exclude.Ports, uint16(port)) }, true, 0}, //nolint:gosec // a port
		"include other port": {func(s *Settings) { s.Include.Ports = append(s.Include.Ports, 1) }, true, 0},
	} {
		s := testSettings()
		tc.s(&s)
		d, err := New(s)
		require.NoError(t, err, name)
		res, err := d.Pass(context.Background())
		require.NoError(t, err, name)
		p, found := find(res, cmd.Process.Pid)
		assert.Equal(t, tc.found, found, name)
		assert.Len(t, p.Endpoints, tc.endpoints, name)
	}
}

// A collector without permission to read other users' processes reports
// what it can and counts the rest.
func TestPassWithoutPermission(t *testing.T) {
	if os.Getuid() != 0 {
		d, err := New(testSettings())
		require.NoError(t, err)
		res, err := d.Pass(context.Background())
		require.NoError(t, err)
		assert.Positive(t, res.Denied, "as uid %d, root's processes are closed", os.Getuid())
		return
	}
	// As root: scan as nobody, from a copy of this binary nobody can run.
	dir, err := os.MkdirTemp("", "discovery-nobody")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) //nolint:gosec // nobody runs the copy
	bin := filepath.Join(dir, "scan.test")
	src, err := os.Open(os.Args[0])
	require.NoError(t, err)
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755) //nolint:gosec // an executable
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
	_ = src.Close()

	rootChild, _ := goChild(t, "expvar")
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "DISCOVERY_CHILD=scan")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	require.NoError(t, err, "scan as nobody: %s", out)
	var res Result
	require.NoError(t, json.Unmarshal(out, &res))
	assert.Positive(t, res.Denied)
	assert.Positive(t, res.Scanned)
	_, found := find(res, rootChild.Process.Pid)
	assert.False(t, found, "root's Go process cannot be read by nobody")
}

func TestEndpointsGiveEachSourceOnce(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.1:6060")
	b := netip.MustParseAddrPort("127.0.0.1:9090")
	c := netip.MustParseAddrPort("127.0.0.1:8080")
	got := endpoints(map[netip.AddrPort]*portState{
		a: {probed: true, result: ProbeResult{Addr: a, HTTP: true, Sources: []string{target.SourceExpvar, target.SourceGoroutines}}},
		b: {probed: true, result: ProbeResult{Addr: b, HTTP: true, Sources: []string{target.SourcePrometheus, target.SourceGoroutines}}},
		c: {probed: true, result: ProbeResult{Addr: c, HTTP: true}},
	})
	assert.Equal(t, []Endpoint{
		{Addr: a, Sources: []string{target.SourceExpvar, target.SourceGoroutines}},
		{Addr: b, Sources: []string{target.SourcePrometheus}},
	}, got)
}

func TestProbeAddr(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3"), netip.IPv6Loopback()}
	for in, want := range map[string]string{
		"0.0.0.0:80":      "127.0.0.1:80",
		"[::]:80":         "[::1]:80",
		"127.0.0.2:80":    "127.0.0.2:80",
		"10.1.2.3:80":     "10.1.2.3:80",
		"10.9.9.9:80":     "",
		"[fe80::1]:80":    "",
		"192.168.1.10:80": "",
	} {
		got, ok := probeAddr(netip.MustParseAddrPort(in), own)
		if want == "" {
			assert.False(t, ok, in)
			continue
		}
		assert.Equal(t, want, got.String(), in)
	}
	got, ok := probeAddr(netip.MustParseAddrPort("[::]:80"), own[:2])
	assert.True(t, ok)
	assert.Equal(t, "127.0.0.1:80", got.String(), "no IPv6 loopback: a dual-stack listener is asked on IPv4")
}
