package procfs // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/procfs"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// Netlink sock_diag (linux/sock_diag.h, linux/inet_diag.h).
const (
	sockDiagByFamily = 20
	tcpListenState   = 10
	inetDiagReqLen   = 56 // inet_diag_req_v2
	inetDiagMsgLen   = 72 // inet_diag_msg
	nlmsgHdrLen      = 16
)

// ListenersDiag asks the kernel, over netlink sock_diag, for the listening
// TCP sockets of the collector's own network namespace, keyed by inode.
// Unlike /proc/net/tcp it lists only listeners, so its cost does not grow
// with the host's connections.
func ListenersDiag(into map[uint64]netip.AddrPort) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag socket: %w", err)
	}
	defer func() { _ = syscall.Close(fd) }()
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag bind: %w", err)
	}
	buf := make([]byte, 32<<10)
	for seq, family := range []uint8{syscall.AF_INET, syscall.AF_INET6} {
		req := make([]byte, nlmsgHdrLen+inetDiagReqLen)
		binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
		binary.NativeEndian.PutUint16(req[4:], sockDiagByFamily)
		binary.NativeEndian.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
		binary.NativeEndian.PutUint32(req[8:], uint32(seq+1))
		r := req[nlmsgHdrLen:]
		r[0] = family
		r[1] = syscall.IPPROTO_TCP
		binary.NativeEndian.PutUint32(r[4:], 1<<tcpListenState)
		if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			return fmt.Errorf("sock_diag send: %w", err)
		}
	read:
		for {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				return fmt.Errorf("sock_diag receive: %w", err)
			}
			done, err := ParseDiag(buf[:n], func(l Listener) { into[l.Inode] = l.Addr })
			if err != nil {
				return err
			}
			if done {
				break read
			}
		}
	}
	return nil
}

// ParseDiag reads one netlink answer to a sock_diag dump; done is true at
// the dump's end.
func ParseDiag(b []byte, fn func(Listener)) (done bool, _ error) {
	for len(b) >= nlmsgHdrLen {
		l := binary.NativeEndian.Uint32(b[0:])
		typ := binary.NativeEndian.Uint16(b[4:])
		if l < nlmsgHdrLen || int(l) > len(b) {
			return false, fmt.Errorf("sock_diag: message length %d of %d bytes", l, len(b))
		}
		body := b[nlmsgHdrLen:l]
		switch typ {
		case syscall.NLMSG_DONE:
			return true, nil
		case syscall.NLMSG_ERROR:
			if len(body) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(body)); code != 0 { //nolint:gosec // errno is an int32
					return false, fmt.Errorf("sock_diag: %w", syscall.Errno(-code))
				}
			}
			return false, errors.New("sock_diag: error message")
		case sockDiagByFamily:
			if len(body) < inetDiagMsgLen {
				return false, fmt.Errorf("sock_diag: %d-byte inet_diag_msg", len(body))
			}
			family, state := body[0], body[1]
			if state == tcpListenState {
				port := binary.BigEndian.Uint16(body[4:])
				var addr netip.Addr
				switch family {
				case syscall.AF_INET:
					addr = netip.AddrFrom4([4]byte(body[8:12]))
				case syscall.AF_INET6:
					addr = netip.AddrFrom16([16]byte(body[8:24])).Unmap()
				default:
					return false, fmt.Errorf("sock_diag: address family %d", family)
				}
				inode := binary.NativeEndian.Uint32(body[68:])
				fn(Listener{Inode: uint64(inode), Addr: netip.AddrPortFrom(addr, port)})
			}
		}
		// Messages are aligned to 4 bytes.
		next := (int(l) + 3) &^ 3
		if next > len(b) {
			break
		}
		b = b[next:]
	}
	return false, nil
}
