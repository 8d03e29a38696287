// Package discovery finds the Go processes on a host: it scans /proc, tells
// Go executables from others by their build information, finds the TCP
// ports each Go process listens on, and probes those ports for the Go
// runtime's HTTP endpoints. What it learns about a process is kept only
// while the process lives.
package discovery // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/discovery"

import (
	"context"
	"debug/buildinfo"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/procfs"
)

// Filter selects processes and ports. Within a kind the patterns are
// alternatives; an empty kind does not restrict.
type Filter struct {
	// Executables match the executable's file name.
	Executables []*regexp.Regexp
	// Modules match the main module's path.
	Modules []*regexp.Regexp
	// Users match the owner's user name or numeric ID.
	Users []*regexp.Regexp
	// Ports are TCP ports.
	Ports []uint16
}

// Settings configure discovery.
type Settings struct {
	// ProcRoot is the /proc tree to scan.
	ProcRoot string
	// Include keeps only the processes that match every kind of pattern
	// it has, and probes only the ports it lists (all ports if none).
	Include Filter
	// Exclude drops processes that match any of its patterns, and never
	// probes the ports it lists.
	Exclude Filter
	// MaxPortsPerProcess bounds the ports probed on one process.
	MaxPortsPerProcess int
	// MaxProbesPerPass bounds the ports probed in one pass; the rest wait
	// for the next.
	MaxProbesPerPass int
	// ProbeConcurrency is how many ports are probed at once.
	ProbeConcurrency int
	// Probe asks one address for the Go endpoints.
	Probe func(ctx context.Context, addr netip.AddrPort) ProbeResult
}

// Key names one process for the life of the host: PIDs are reused, start
// times tell the users of one PID apart.
type Key struct {
	PID   int
	Start uint64
}

// BuildInfo is what a Go executable says about its build.
type BuildInfo struct {
	GoVersion string
	// PackagePath is the main package's import path.
	PackagePath   string
	ModulePath    string
	ModuleVersion string
	VCSRevision   string
	VCSTime       string
	VCSModified   string
	Experiment    string
}

// Endpoint is one HTTP address of a process and the sources it serves.
type Endpoint struct {
	Addr    netip.AddrPort
	Sources []string
}

// Process is a Go process found on the host.
type Process struct {
	Key
	// StartTime is when the process started.
	StartTime time.Time
	// Exe is the executable's path; ExeName its file name.
	Exe, ExeName string
	// Owner is the owner's user name, or the numeric ID where it has none.
	Owner string
	Build BuildInfo
	// Endpoints found so far, each serving sources no other one serves.
	Endpoints []Endpoint
	// OtherNetNS is true for a process in another network namespace: its
	// ports are not reachable on this host's addresses, so they are not
	// probed.
	OtherNetNS bool
	// PortsUnread is true when the process's sockets could not be read.
	PortsUnread bool
}

// Result is what one pass found.
type Result struct {
	// Processes are the Go processes selected by the filters, by PID.
	Processes []Process
	// Gone are the processes of the previous pass that exited or are no
	// longer selected.
	Gone []Key
	// Denied counts the processes that could not be inspected for want
	// of permission.
	Denied int
	// Scanned counts the processes looked at.
	Scanned int
	// Probed counts the ports probed in this pass.
	Probed int
}

// Discoverer keeps what earlier passes learned; Pass is not safe for
// concurrent use.
type Discoverer struct {
	s      Settings
	fs     *procfs.FS
	self   int
	selfNS string
	boot   time.Time

	procs  map[Key]*entry
	builds map[procfs.FileID]*buildEntry
	users  map[uint32]string
	addrs  func() []netip.Addr
}

// entry is what is known of one process.
type entry struct {
	id       procfs.FileID
	seen     bool
	selected bool
	proc     *Process
	// ports maps each port found to what probing it gave.
	ports map[netip.AddrPort]*portState
}

type portState struct {
	probed bool
	result ProbeResult
}

type buildEntry struct {
	seen bool
	info *BuildInfo // nil: not a Go executable
}

// New returns a Discoverer.
func New(s Settings) (*Discoverer, error) {
	if s.ProcRoot == "" {
		s.ProcRoot = "/proc"
	}
	p := procfs.New(s.ProcRoot)
	d := &Discoverer{
		s: s, fs: p,
		procs: map[Key]*entry{}, builds: map[procfs.FileID]*buildEntry{}, users: map[uint32]string{},
		addrs: interfaceAddrs,
	}
	// The collector's own process, as this /proc tree numbers it.
	if link, err := os.Readlink(filepath.Join(s.ProcRoot, "self")); err == nil {
		d.self, _ = strconv.Atoi(link)
	}
	if d.self == 0 {
		d.self = os.Getpid()
	}
	d.selfNS, _ = p.NetNS(d.self)
	bt, err := p.BootTime()
	if err != nil {
		return nil, err
	}
	d.boot = time.Unix(bt, 0)
	return d, nil
}

// ticksPerSecond is the kernel's USER_HZ, 100 on every Linux platform Go
// supports.
const ticksPerSecond = 100

// Pass scans the host once.
func (d *Discoverer) Pass(ctx context.Context) (Result, error) {
	pids, err := d.fs.PIDs()
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, e := range d.procs {
		e.seen = false
	}
	for _, b := range d.builds {
		b.seen = false
	}
	var listeners map[uint64]netip.AddrPort
	var toProbe []probeJob
	var inodes []uint64
	for _, pid := range pids {
		if pid == d.self {
			continue // read by the self source
		}
		st, err := d.fs.Stat(pid)
		if err != nil || st.State == 'Z' {
			continue // exited, or a zombie with nothing left to read
		}
		res.Scanned++
		key := Key{PID: pid, Start: st.StartTicks}
		e, known := d.procs[key]
		if !known {
			e = d.inspect(key, &res)
			d.procs[key] = e
		}
		e.seen = true
		if b := d.builds[e.id]; b != nil {
			b.seen = true
		}
		if !e.selected {
			continue
		}
		if e.proc.OtherNetNS {
			continue
		}
		var err2 error
		if _, inodes, err2 = d.fs.FDs(pid, inodes[:0]); err2 != nil {
			e.proc.PortsUnread = true
			if errors.Is(err2, fs.ErrPermission) {
				res.Denied++
			}
			continue
		}
		e.proc.PortsUnread = false
		if listeners == nil {
			// Only listeners, from the kernel; /proc/net/tcp (every
			// connection of the host as text) where netlink is closed.
			listeners = map[uint64]netip.AddrPort{}
			if err := procfs.ListenersDiag(listeners); err != nil {
				clear(listeners)
				_ = d.fs.Listeners(d.self, listeners)
			}
		}
		for _, ino := range inodes {
			addr, ok := listeners[ino]
			if !ok || !d.portAllowed(addr.Port()) {
				continue
			}
			if _, ok := e.ports[addr]; !ok && len(e.ports) < d.s.MaxPortsPerProcess {
				e.ports[addr] = &portState{}
			}
		}
		for addr, ps := range e.ports {
			if !ps.probed {
				toProbe = append(toProbe, probeJob{e: e, addr: addr, ps: ps})
			}
		}
	}
	res.Probed = d.probe(ctx, toProbe)
	for key, e := range d.procs {
		switch {
		case !e.seen:
			if e.selected {
				res.Gone = append(res.Gone, key)
			}
			delete(d.procs, key)
		case e.selected:
			e.proc.Endpoints = endpoints(e.ports)
			res.Processes = append(res.Processes, *e.proc)
		}
	}
	for id, b := range d.builds {
		if !b.seen {
			delete(d.builds, id)
		}
	}
	slices.SortFunc(res.Processes, func(a, b Process) int { return a.PID - b.PID })
	slices.SortFunc(res.Gone, func(a, b Key) int { return a.PID - b.PID })
	return res, nil
}

// inspect looks at a process seen for the first time.
func (d *Discoverer) inspect(key Key, res *Result) *entry {
	e := &entry{}
	id, err := d.fs.ExeID(key.PID)
	if err != nil {
		// Kernel threads have no executable; others' processes may be
		// closed to us.
		if errors.Is(err, fs.ErrPermission) {
			res.Denied++
		}
		return e
	}
	e.id = id
	b, ok := d.builds[id]
	if !ok {
		b = &buildEntry{info: readBuildInfo(d.fs, key.PID)}
		d.builds[id] = b
	}
	b.seen = true
	if b.info == nil {
		return e
	}
	_, exe, _ := d.fs.Exe(key.PID)
	exe = strings.TrimSuffix(exe, " (deleted)")
	p := &Process{
		Key:       key,
		StartTime: d.boot.Add(time.Duration(key.Start) * time.Second / ticksPerSecond),
		Exe:       exe,
		ExeName:   filepath.Base(exe),
		Build:     *b.info,
	}
	uid := ""
	if id, err := d.fs.Owner(key.PID); err == nil {
		p.Owner = d.userName(id)
		uid = strconv.FormatUint(uint64(id), 10)
	}
	if ns, err := d.fs.NetNS(key.PID); err == nil && d.selfNS != "" && ns != d.selfNS {
		p.OtherNetNS = true
	}
	e.proc = p
	e.selected = d.selected(p, uid)
	e.ports = map[netip.AddrPort]*portState{}
	return e
}

func readBuildInfo(p *procfs.FS, pid int) *BuildInfo {
	open, _, err := p.Exe(pid)
	if err != nil {
		return nil
	}
	bi, err := buildinfo.ReadFile(open)
	if err != nil {
		return nil
	}
	info := &BuildInfo{GoVersion: bi.GoVersion, PackagePath: bi.Path, ModulePath: bi.Main.Path, ModuleVersion: bi.Main.Version}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.VCSRevision = s.Value
		case "vcs.time":
			info.VCSTime = s.Value
		case "vcs.modified":
			info.VCSModified = s.Value
		case "GOEXPERIMENT":
			info.Experiment = s.Value
		}
	}
	return info
}

func (d *Discoverer) userName(uid uint32) string {
	if n, ok := d.users[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	d.users[uid] = n
	return n
}

// selected applies the include and exclude filters to a process owned by
// uid.
func (d *Discoverer) selected(p *Process, uid string) bool {
	match := func(res []*regexp.Regexp, values ...string) bool {
		for _, re := range res {
			for _, v := range values {
				if v != "" && re.MatchString(v) {
					return true
				}
			}
		}
		return false
	}
	in, ex := d.s.Include, d.s.Exclude
	if len(in.Executables) > 0 && !match(in.Executables, p.ExeName) ||
		len(in.Modules) > 0 && !match(in.Modules, p.Build.ModulePath) ||
		len(in.Users) > 0 && !match(in.Users, p.Owner, uid) {
		return false
	}
	return !match(ex.Executables, p.ExeName) && !match(ex.Modules, p.Build.ModulePath) && !match(ex.Users, p.Owner, uid)
}

func (d *Discoverer) portAllowed(port uint16) bool {
	if len(d.s.Include.Ports) > 0 && !slices.Contains(d.s.Include.Ports, port) {
		return false
	}
	return !slices.Contains(d.s.Exclude.Ports, port)
}

type probeJob struct {
	e    *entry
	addr netip.AddrPort
	ps   *portState
}

// probe asks up to MaxProbesPerPass listening addresses for the Go
// endpoints, ProbeConcurrency at a time. An address that cannot be reached
// from this host's own addresses is marked probed with nothing found.
func (d *Discoverer) probe(ctx context.Context, jobs []probeJob) int {
	slices.SortFunc(jobs, func(a, b probeJob) int {
		if a.e.proc.PID != b.e.proc.PID {
			return a.e.proc.PID - b.e.proc.PID
		}
		return a.addr.Compare(b.addr)
	})
	if len(jobs) > d.s.MaxProbesPerPass {
		jobs = jobs[:d.s.MaxProbesPerPass]
	}
	if len(jobs) == 0 {
		return 0
	}
	own := d.addrs()
	sem := make(chan struct{}, max(1, d.s.ProbeConcurrency))
	var wg sync.WaitGroup
	for _, j := range jobs {
		j.ps.probed = true
		target, ok := probeAddr(j.addr, own)
		if !ok {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			j.ps.result = d.s.Probe(ctx, target)
			j.ps.result.Addr = target
		})
	}
	wg.Wait()
	return len(jobs)
}

// probeAddr is where a listening address is asked: wildcard listeners on
// loopback, others only at this host's own addresses.
func probeAddr(l netip.AddrPort, own []netip.Addr) (netip.AddrPort, bool) {
	a := l.Addr()
	switch {
	case a.IsUnspecified():
		if a.Is4() {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), l.Port()), true
		}
		if slices.Contains(own, netip.IPv6Loopback()) {
			return netip.AddrPortFrom(netip.IPv6Loopback(), l.Port()), true
		}
		// A dual-stack listener answers on IPv4 loopback too.
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), l.Port()), true
	case a.IsLoopback(), slices.Contains(own, a):
		return l, true
	}
	return netip.AddrPort{}, false
}

// endpoints gives each source to one port: the port serving the most
// sources first, then the lowest port.
func endpoints(ports map[netip.AddrPort]*portState) []Endpoint {
	var found []Endpoint
	for _, ps := range ports {
		if len(ps.result.Sources) > 0 {
			found = append(found, Endpoint{Addr: ps.result.Addr, Sources: ps.result.Sources})
		}
	}
	slices.SortFunc(found, func(a, b Endpoint) int {
		if len(a.Sources) != len(b.Sources) {
			return len(b.Sources) - len(a.Sources)
		}
		return a.Addr.Compare(b.Addr)
	})
	taken := map[string]bool{}
	out := found[:0]
	for _, ep := range found {
		var mine []string
		for _, s := range ep.Sources {
			if !taken[s] {
				taken[s] = true
				mine = append(mine, s)
			}
		}
		if len(mine) > 0 {
			out = append(out, Endpoint{Addr: ep.Addr, Sources: mine})
		}
	}
	return out
}

// interfaceAddrs lists this host's own addresses.
func interfaceAddrs() []netip.Addr {
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(ifaddrs))
	for _, a := range ifaddrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
