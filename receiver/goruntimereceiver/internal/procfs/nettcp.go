package procfs // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/procfs"

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// Listener is a TCP socket in the LISTEN state.
type Listener struct {
	Inode uint64
	Addr  netip.AddrPort
}

// Listeners reads the listening TCP sockets, IPv4 and IPv6, of the network
// namespace process pid is in, keyed by socket inode.
func (p *FS) Listeners(pid int, into map[uint64]netip.AddrPort) error {
	var errs []error
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := p.readFile(p.path(pid, "net", name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := ParseNetTCP(b, func(l Listener) { into[l.Inode] = l.Addr }); err != nil {
			errs = append(errs, fmt.Errorf("net/%s: %w", name, err))
		}
	}
	if len(errs) == 2 {
		return errors.Join(errs...)
	}
	return nil
}

// tcpListen is the LISTEN state in /proc/net/tcp.
const tcpListen = "0A"

// ParseNetTCP calls fn for each listening socket in the text of
// /proc/net/tcp or /proc/net/tcp6. Lines it cannot read are an error; the
// sockets before them are still reported.
func ParseNetTCP(b []byte, fn func(Listener)) error {
	first := true
	var fields [10][]byte
	for line := range bytes.Lines(b) {
		if first { // the header
			first = false
			continue
		}
		n := 0
		for f := range bytes.FieldsSeq(line) {
			if n == len(fields) {
				break
			}
			fields[n] = f
			n++
		}
		if n == 0 {
			continue
		}
		if n < len(fields) {
			return fmt.Errorf("line %q: %d fields, want at least %d", bytes.TrimSpace(line), n, len(fields))
		}
		if string(fields[3]) != tcpListen {
			continue
		}
		addr, err := parseHexAddrPort(fields[1])
		if err != nil {
			return fmt.Errorf("line %q: %w", bytes.TrimSpace(line), err)
		}
		inode, err := strconv.ParseUint(string(fields[9]), 10, 64)
		if err != nil {
			return fmt.Errorf("line %q: inode: %w", bytes.TrimSpace(line), err)
		}
		fn(Listener{Inode: inode, Addr: addr})
	}
	return nil
}

// parseHexAddrPort reads "0100007F:1F90": the address as 32-bit words in
// host (little-endian) byte order, the port in big-endian hex.
func parseHexAddrPort(b []byte) (netip.AddrPort, error) {
	a, p, ok := bytes.Cut(b, []byte{':'})
	if !ok || len(p) != 4 {
		return netip.AddrPort{}, fmt.Errorf("address %q is not HEXADDR:PORT", b)
	}
	port, err := strconv.ParseUint(string(p), 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q: %w", p, err)
	}
	var raw [16]byte
	if len(a) != 8 && len(a) != 32 {
		return netip.AddrPort{}, fmt.Errorf("address %q is neither 8 nor 32 hex digits", a)
	}
	n, err := hex.Decode(raw[:], a)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", a, err)
	}
	for w := 0; w < n; w += 4 { // each 32-bit word is little-endian
		raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	var addr netip.Addr
	if n == 4 {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		addr = netip.AddrFrom16(raw).Unmap()
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
