// Package procfs reads what host discovery needs from a Linux /proc tree:
// the processes, their CPU, memory and thread counts, their owners and
// executables, and the TCP ports they listen on. Parsers take bytes so that
// they can be fuzzed; the FS methods do the reading.
package procfs // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/procfs"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// FS is a /proc tree, normally "/proc"; in a container, the host's /proc
// mounted elsewhere.
type FS struct {
	Root string
	buf  []byte
}

// New returns the /proc tree at root.
func New(root string) *FS { return &FS{Root: root} }

// PIDs lists the processes in the tree.
func (p *FS) PIDs() ([]int, error) {
	f, err := os.Open(p.Root)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '0' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func (p *FS) path(pid int, parts ...string) string {
	return filepath.Join(append([]string{p.Root, strconv.Itoa(pid)}, parts...)...)
}

// readFile reads a small /proc file into a buffer reused across calls: the
// returned bytes are valid until the next read.
func (p *FS) readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if p.buf == nil {
		p.buf = make([]byte, 0, 4096)
	}
	p.buf = p.buf[:0]
	for {
		if len(p.buf) == cap(p.buf) {
			p.buf = slices.Grow(p.buf, cap(p.buf))
		}
		n, err := f.Read(p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+n]
		if errors.Is(err, io.EOF) {
			return p.buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Stat is what /proc/PID/stat says of a process.
type Stat struct {
	// Comm is the command name, at most 15 bytes.
	Comm string
	// State is the one-letter state: R, S, D, Z, ...
	State byte
	// UTime and STime are the user and system CPU time in clock ticks.
	UTime, STime uint64
	// Threads is the number of threads.
	Threads int64
	// StartTicks is when the process started, in clock ticks after boot;
	// with the PID it names one process for the life of the host.
	StartTicks uint64
	// VSize is the virtual memory size in bytes.
	VSize uint64
	// RSSPages is the resident set size in pages.
	RSSPages int64
}

// Stat reads /proc/PID/stat.
func (p *FS) Stat(pid int) (Stat, error) {
	b, err := p.readFile(p.path(pid, "stat"))
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(b)
}

// ParseStat parses the one line of /proc/PID/stat. The command name is in
// parentheses and may itself hold spaces and parentheses, so the fields
// are counted from the last ')'.
func ParseStat(b []byte) (Stat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Stat{}, errors.New("stat: no command name in parentheses")
	}
	var s Stat
	s.Comm = string(b[open+1 : end])
	// Fields from 3 (state) on; field N is rest[N-3].
	var rest [22][]byte
	n := 0
	for f := range bytes.FieldsSeq(b[end+1:]) {
		if n == len(rest) {
			break
		}
		rest[n] = f
		n++
	}
	if n < len(rest) {
		return Stat{}, fmt.Errorf("stat: %d fields after the command name, want at least %d", n, len(rest))
	}
	if len(rest[0]) != 1 {
		return Stat{}, fmt.Errorf("stat: state %q is not one letter", rest[0])
	}
	s.State = rest[0][0]
	var err error
	u := func(i int) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = strconv.ParseUint(string(rest[i]), 10, 64)
		if err != nil {
			err = fmt.Errorf("stat: field %d: %w", i+3, err)
		}
		return v
	}
	i := func(i int) int64 {
		if err != nil {
			return 0
		}
		var v int64
		v, err = strconv.ParseInt(string(rest[i]), 10, 64)
		if err != nil {
			err = fmt.Errorf("stat: field %d: %w", i+3, err)
		}
		return v
	}
	s.UTime = u(14 - 3)
	s.STime = u(15 - 3)
	s.Threads = i(20 - 3)
	s.StartTicks = u(22 - 3)
	s.VSize = u(23 - 3)
	s.RSSPages = i(24 - 3)
	return s, err
}

// Owner returns the user ID that owns the process (its effective UID when
// the process started, as the kernel shows on /proc/PID).
func (p *FS) Owner(pid int) (uint32, error) {
	fi, err := os.Stat(p.path(pid))
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, errors.New("owner: no stat_t")
	}
	return st.Uid, nil
}

// Exe returns the path of /proc/PID/exe, through which the process's
// executable can be opened even when its file was replaced or deleted, and
// the executable's path as the kernel reports it.
func (p *FS) Exe(pid int) (open, path string, err error) {
	open = p.path(pid, "exe")
	path, err = os.Readlink(open)
	return open, path, err
}

// FileID names an executable's file: device, inode and modification time.
type FileID struct {
	Dev, Ino uint64
	MTime    int64
}

// ExeID stats the executable behind /proc/PID/exe.
func (p *FS) ExeID(pid int) (FileID, error) {
	fi, err := os.Stat(p.path(pid, "exe"))
	if err != nil {
		return FileID{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}, errors.New("exe: no stat_t")
	}
	return FileID{Dev: st.Dev, Ino: st.Ino, MTime: st.Mtim.Nano()}, nil
}

// NetNS returns the inode of the process's network namespace.
func (p *FS) NetNS(pid int) (string, error) {
	return os.Readlink(p.path(pid, "ns", "net"))
}

// FDs counts the process's open file descriptors and appends the inodes of
// its sockets to inodes.
func (p *FS) FDs(pid int, inodes []uint64) (count int, _ []uint64, _ error) {
	dir := p.path(pid, "fd")
	f, err := os.Open(dir)
	if err != nil {
		return 0, inodes, err
	}
	defer func() { _ = f.Close() }()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, inodes, err
	}
	for _, n := range names {
		link, err := os.Readlink(dir + "/" + n)
		if err != nil {
			continue // closed since the listing
		}
		if ino, ok := SocketInode(link); ok {
			inodes = append(inodes, ino)
		}
	}
	return len(names), inodes, nil
}

// CountFDs counts the process's open file descriptors.
func (p *FS) CountFDs(pid int) (int, error) {
	f, err := os.Open(p.path(pid, "fd"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	names, err := f.Readdirnames(-1)
	return len(names), err
}

// SocketInode returns the inode of a "socket:[12345]" fd link.
func SocketInode(link string) (uint64, bool) {
	const pre = "socket:["
	if len(link) < len(pre)+2 || link[:len(pre)] != pre || link[len(link)-1] != ']' {
		return 0, false
	}
	v, err := strconv.ParseUint(link[len(pre):len(link)-1], 10, 64)
	return v, err == nil
}

// BootTime reads the host's boot time, in seconds since the epoch, from
// /proc/stat.
func (p *FS) BootTime() (int64, error) {
	b, err := p.readFile(filepath.Join(p.Root, "stat"))
	if err != nil {
		return 0, err
	}
	return ParseBootTime(b)
}

// ParseBootTime finds the btime line of /proc/stat.
func ParseBootTime(b []byte) (int64, error) {
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			return strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return 0, errors.New("/proc/stat: no btime line")
}
