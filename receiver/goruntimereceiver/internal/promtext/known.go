package promtext

import "sync"

// family is what the process knows of a family some target serves: its
// name, a HELP text it is served with, and the runtime/metrics name that
// HELP gives.
type family struct {
	name, help, src string
	ok              bool
}

// known holds, for the whole process, the families targets serve, by name.
// Targets built with one Go version serve the same ~150 families every
// scrape: each HELP text is read once, not once per target and scrape, and
// the names and HELP texts of decoded families are these strings rather
// than copies per target. A name served with several HELP texts (targets
// on different Go versions) keeps up to maxHelps of them.
var known = struct {
	sync.RWMutex
	byName map[string][]*family
	n      int // families held
	bytes  int // their names' and HELP texts' bytes
}{byName: map[string][]*family{}}

const (
	// knownLimit and knownBytes bound the table: targets that serve ever
	// new family names, or ever new long HELP texts, start it over rather
	// than grow it without end.
	knownLimit = 1 << 14
	knownBytes = 8 << 20
	// knownMaxLen is the longest name and HELP remembered; a family past
	// it is worked out each time it is served.
	knownMaxLen = 4 << 10
	// maxHelps bounds the HELP texts kept for one name; the oldest goes.
	maxHelps = 8
)

// knownFamily looks a family up by the bytes of its name and HELP,
// without copying them when it is known.
func knownFamily(name, help []byte) *family {
	known.RLock()
	vs := known.byName[string(name)]
	known.RUnlock()
	for _, f := range vs {
		if f.help == string(help) {
			return f
		}
	}
	return addFamily(string(name), string(help))
}

// knownFamilyString is knownFamily for strings.
func knownFamilyString(name, help string) *family {
	known.RLock()
	vs := known.byName[name]
	known.RUnlock()
	for _, f := range vs {
		if f.help == help {
			return f
		}
	}
	return addFamily(name, help)
}

func addFamily(name, help string) *family {
	src, ok := familySource(name, help)
	f := &family{name: name, help: help, src: src, ok: ok}
	size := len(name) + len(help)
	if size > knownMaxLen {
		return f
	}
	known.Lock()
	defer known.Unlock()
	if known.n >= knownLimit || known.bytes+size > knownBytes {
		known.byName, known.n, known.bytes = map[string][]*family{}, 0, 0
	}
	// A new slice each time: readers hold the old one outside the lock.
	old := known.byName[name]
	if len(old) >= maxHelps {
		known.n--
		known.bytes -= len(old[0].name) + len(old[0].help)
		old = old[1:]
	}
	vs := make([]*family, 0, len(old)+1)
	known.byName[name] = append(append(vs, old...), f)
	known.n++
	known.bytes += size
	return f
}
