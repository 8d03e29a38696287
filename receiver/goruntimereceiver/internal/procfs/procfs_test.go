package procfs

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatOddCommand(t *testing.T) {
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 7 0 123456 1048576 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	s, err := ParseStat([]byte(line))
	require.NoError(t, err)
	assert.Equal(t, Stat{Comm: "a) b (c)", State: 'S', UTime: 250, STime: 75, Threads: 7, StartTicks: 123456, VSize: 1048576, RSSPages: 300}, s)
}

func TestParseStatErrors(t *testing.T) {
	for name, line := range map[string]string{
		"no parentheses": "1 cmd S 1 2 3",
		"short":          "1 (cmd) S 1 2 3",
		"not a number":   "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 75 0 0 20 0 7 0 123 1 3 4",
		"state":          "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 1 75 0 0 20 0 7 0 123 1 3 4",
	} {
		_, err := ParseStat([]byte(line))
		assert.Error(t, err, name)
	}
}

func TestOwnProcess(t *testing.T) {
	p := New("/proc")
	pids, err := p.PIDs()
	require.NoError(t, err)
	assert.Contains(t, pids, os.Getpid())

	s, err := p.Stat(os.Getpid())
	require.NoError(t, err)
	assert.Contains(t, "RSD", string(s.State), "the main thread of a live process")
	assert.Positive(t, s.Threads)
	assert.Positive(t, s.RSSPages)
	assert.Positive(t, s.StartTicks)

	uid, err := p.Owner(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, uint32(os.Getuid()), uid)

	_, path, err := p.Exe(os.Getpid())
	require.NoError(t, err)
	self, err := os.Executable()
	require.NoError(t, err)
	assert.Equal(t, self, path)

	bt, err := p.BootTime()
	require.NoError(t, err)
	assert.Greater(t, bt, int64(1_000_000_000))
}

func TestListenersOfOwnSockets(t *testing.T) {
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l4.Close() }()
	l6, err := net.Listen("tcp", ":0") // dual stack, shown in tcp6
	require.NoError(t, err)
	defer func() { _ = l6.Close() }()

	p := New("/proc")
	listeners := map[uint64]netip.AddrPort{}
	require.NoError(t, p.Listeners(os.Getpid(), listeners))
	n, inodes, err := p.FDs(os.Getpid(), nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 2)
	var mine []netip.AddrPort
	for _, ino := range inodes {
		if a, ok := listeners[ino]; ok {
			mine = append(mine, a)
		}
	}
	assert.Contains(t, mine, netip.MustParseAddrPort(l4.Addr().String()))
	port := l6.Addr().(*net.TCPAddr).Port
	assert.True(t, slices.ContainsFunc(mine, func(a netip.AddrPort) bool {
		return int(a.Port()) == port && a.Addr().IsUnspecified()
	}), "the dual-stack listener on port %d is in %v", port, mine)
	runtime.KeepAlive(l4)
}

func TestParseNetTCP(t *testing.T) {
	text := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1770 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1770 0100007F:D3E2 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1
   2: 0F02000A:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 100 0 0 10 0
`
	text6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6666 1 0000000000000000 100 0 0 10 0
`
	got := map[uint64]string{}
	fn := func(l Listener) { got[l.Inode] = l.Addr.String() }
	require.NoError(t, ParseNetTCP([]byte(text), fn))
	require.NoError(t, ParseNetTCP([]byte(text6), fn))
	assert.Equal(t, map[uint64]string{
		1111: "127.0.0.1:6000",
		3333: "10.0.2.15:443",
		4444: "[::]:8080",
		5555: "[::1]:80",
		6666: "127.0.0.1:81",
	}, got)
}

func TestParseNetTCPErrors(t *testing.T) {
	head := "sl local rem st\n"
	for name, line := range map[string]string{
		"short":      "0: 0100007F:1770 00000000:0000 0A\n",
		"bad port":   "0: 0100007F:17 00000000:0000 0A 0:0 0:0 0 0 0 1111\n",
		"bad addr":   "0: 0100007:1770 00000000:0000 0A 0:0 0:0 0 0 0 1111\n",
		"not hex":    "0: 010000ZZ:1770 00000000:0000 0A 0:0 0:0 0 0 0 1111\n",
		"bad inode":  "0: 0100007F:1770 00000000:0000 0A 0:0 0:0 0 0 0 x\n",
		"no colon":   "0: 0100007F 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
		"huge port":  "0: 0100007F:FFFFF 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
		"odd length": "0: 0100007F0:1770 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
	} {
		assert.Error(t, ParseNetTCP([]byte(head+line), func(Listener) {}), name)
	}
}

func TestSocketInode(t *testing.T) {
	v, ok := SocketInode("socket:[98765]")
	assert.True(t, ok)
	assert.Equal(t, uint64(98765), v)
	for _, s := range []string{"pipe:[1]", "socket:[]", "socket:[12", "/dev/null", "socket:[x]"} {
		_, ok := SocketInode(s)
		assert.False(t, ok, s)
	}
}

func TestParseBootTime(t *testing.T) {
	v, err := ParseBootTime([]byte("cpu  1 2 3\nintr 5\nbtime 1763700000\nprocesses 9\n"))
	require.NoError(t, err)
	assert.Equal(t, int64(1763700000), v)
	_, err = ParseBootTime([]byte("cpu 1\n"))
	assert.Error(t, err)
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 7 0 123456 1048576 300 1 1"))
	f.Add([]byte("1 (x) S"))
	f.Add([]byte(")("))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStat(b)
		if err == nil && len(s.Comm) > len(b) {
			t.Fatalf("command %q longer than the input", s.Comm)
		}
	})
}

func FuzzParseNetTCP(f *testing.F) {
	f.Add([]byte("h\n   0: 0100007F:1770 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1\n"))
	f.Add([]byte("h\n   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 5555\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ParseNetTCP(b, func(l Listener) {
			if !l.Addr.IsValid() {
				t.Fatalf("invalid address reported: %v", l)
			}
		})
	})
}

func TestListenersDiagMatchesProcNetTCP(t *testing.T) {
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l4.Close() }()
	l6, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer func() { _ = l6.Close() }()

	fromProc := map[uint64]netip.AddrPort{}
	require.NoError(t, New("/proc").Listeners(os.Getpid(), fromProc))
	fromDiag := map[uint64]netip.AddrPort{}
	require.NoError(t, ListenersDiag(fromDiag))
	assert.Equal(t, fromProc, fromDiag)
	var addrs []netip.AddrPort
	for _, a := range fromDiag {
		addrs = append(addrs, a)
	}
	assert.Contains(t, addrs, netip.MustParseAddrPort(l4.Addr().String()))
}

func FuzzParseDiag(f *testing.F) {
	msg := make([]byte, nlmsgHdrLen+inetDiagMsgLen)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], sockDiagByFamily)
	msg[nlmsgHdrLen] = syscall.AF_INET
	msg[nlmsgHdrLen+1] = tcpListenState
	f.Add(msg)
	done := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint32(done[0:], uint32(len(done)))
	binary.NativeEndian.PutUint16(done[4:], syscall.NLMSG_DONE)
	f.Add(append(msg, done...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseDiag(b, func(l Listener) {
			if !l.Addr.IsValid() {
				t.Fatalf("invalid address reported: %v", l)
			}
		})
	})
}
