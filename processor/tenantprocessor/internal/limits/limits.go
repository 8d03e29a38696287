// Package limits tracks the active series of every tenant and admits a new
// series only if every level (tenant, metric, the series' own attributes)
// has room. Live series are never evicted; a series frees its slot once it
// has not been seen for the idle timeout.
package limits // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/limits"

import (
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Reason says why data points were dropped. The names are stable: they are
// telemetry attribute values and documented for operators.
type Reason uint8

// The reasons, in the order of their checks.
const (
	OK Reason = iota
	MissingTenant
	InvalidTenant
	TenantLimit
	TooManyAttributes
	AttributeNameTooLong
	AttributeValueTooLong
	TenantSeriesLimit
	MetricSeriesLimit
	NumReasons
)

var reasonNames = [NumReasons]string{
	"", "missing_tenant", "invalid_tenant", "tenant_limit", "too_many_attributes",
	"attribute_name_too_long", "attribute_value_too_long", "tenant_series_limit", "metric_series_limit",
}

func (r Reason) String() string { return reasonNames[r] }

// Limits of one tenant; 0 means unlimited.
type Limits struct {
	MaxSeriesPerTenant      int
	MaxSeriesPerMetric      int
	MaxAttributesPerSeries  int
	MaxAttributeNameLength  int
	MaxAttributeValueLength int
}

// Settings configure a Tracker.
type Settings struct {
	// MaxTenants bounds the number of tenants tracked at once; 0 is unlimited.
	MaxTenants int
	// IdleTimeout is how long a series keeps its slot without being seen.
	IdleTimeout time.Duration
	// Default limits, and per-tenant limits that replace them.
	Default   Limits
	Overrides map[string]Limits
}

func (s *Settings) limitsOf(tenant string) Limits {
	if l, ok := s.Overrides[tenant]; ok {
		return l
	}
	return s.Default
}

// Tracker holds the series of every tenant. It is safe for concurrent use.
type Tracker struct {
	mu       sync.RWMutex
	settings Settings
	tenants  map[string]*Tenant
}

// NewTracker returns an empty tracker.
func NewTracker(s Settings) *Tracker {
	return &Tracker{settings: s, tenants: map[string]*Tenant{}}
}

// Update replaces the settings, keeping every tracked series. Lower limits
// evict nothing: new series are refused until enough old ones expire.
func (tr *Tracker) Update(s Settings) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.settings = s
	for name, t := range tr.tenants {
		t.mu.Lock()
		t.limits = s.limitsOf(name)
		t.mu.Unlock()
	}
}

// seconds is the tracker's coarse clock, Unix seconds in 32 bits (good
// until 2106).
func seconds(now time.Time) uint32 {
	return uint32(max(now.Unix(), 0))
}

// Tenant returns the state of a tenant, creating it if there is room.
func (tr *Tracker) Tenant(name string) (*Tenant, Reason) {
	tr.mu.RLock()
	t, ok := tr.tenants[name]
	tr.mu.RUnlock()
	if ok {
		return t, OK
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if t, ok := tr.tenants[name]; ok {
		return t, OK
	}
	if tr.settings.MaxTenants > 0 && len(tr.tenants) >= tr.settings.MaxTenants {
		return nil, TenantLimit
	}
	t = &Tenant{
		tracker: tr,
		name:    strings.Clone(name),
		limits:  tr.settings.limitsOf(name),
		series:  map[uint64]uint64{},
		metrics: map[string]int32{},
	}
	tr.tenants[t.name] = t
	return t, OK
}

// Each calls fn with every tenant's name, active series and series limit.
func (tr *Tracker) Each(fn func(tenant string, active, limit int)) {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	for name, t := range tr.tenants {
		t.mu.Lock()
		active, limit := t.active, t.limits.MaxSeriesPerTenant
		t.mu.Unlock()
		fn(name, active, limit)
	}
}

// Sweep frees the slots of series not seen within the idle timeout and
// forgets tenants that have no series left.
func (tr *Tracker) Sweep(now time.Time) {
	tr.mu.RLock()
	idle := uint32(tr.settings.IdleTimeout / time.Second)
	tenants := make([]*Tenant, 0, len(tr.tenants))
	for _, t := range tr.tenants {
		tenants = append(tenants, t)
	}
	tr.mu.RUnlock()

	cutoff := int64(seconds(now)) - int64(idle)
	var empty []*Tenant
	for _, t := range tenants {
		t.mu.Lock()
		t.sweep(cutoff)
		if t.active == 0 {
			empty = append(empty, t)
		}
		t.mu.Unlock()
	}
	if len(empty) == 0 {
		return
	}
	tr.mu.Lock()
	for _, t := range empty {
		t.mu.Lock()
		if t.active == 0 && tr.tenants[t.name] == t {
			delete(tr.tenants, t.name)
			t.removed = true
		}
		t.mu.Unlock()
	}
	tr.mu.Unlock()
}

// Tenant is the series state of one tenant. Lock it around a batch of
// Admit calls.
type Tenant struct {
	tracker *Tracker
	name    string

	mu     sync.Mutex
	limits Limits
	// series maps a stream hash to its last-seen second (high 32 bits) and
	// its metric's index in counts (low 32 bits).
	series map[uint64]uint64
	// metrics maps a metric name to its index in counts and names.
	metrics map[string]int32
	counts  []int32
	names   []string
	free    []int32
	active  int
	// removed is set when Sweep forgot the tenant; a holder must ask the
	// tracker for the tenant again.
	removed bool
}

// Lock locks the tenant for a batch of Admit calls. It returns false if the
// tenant was removed since it was looked up; the caller looks it up again.
func (t *Tenant) Lock() bool {
	t.mu.Lock()
	if t.removed {
		t.mu.Unlock()
		return false
	}
	return true
}

// Unlock unlocks the tenant.
func (t *Tenant) Unlock() { t.mu.Unlock() }

// Name is the tenant's ID.
func (t *Tenant) Name() string { return t.name }

// Metric is a metric name resolved once per metric for a batch of points.
type Metric struct {
	name string
	idx  int32 // -1 while the tenant tracks no series of the metric
}

// Metric looks up a metric name; call with the tenant locked.
func (t *Tenant) Metric(name string) Metric {
	if i, ok := t.metrics[name]; ok {
		return Metric{name: name, idx: i}
	}
	return Metric{name: name, idx: -1}
}

// Tracked reports whether the tenant tracks series of m; telemetry names only
// such metrics, so hostile names cannot grow it.
func (m *Metric) Tracked() bool { return m.idx >= 0 }

// Admit records a sighting of the stream h of metric m, whose data point
// attributes are attrs, at now. A known stream is refreshed; a new one is
// admitted only if its attributes are within limits and both its tenant and
// its metric have room, and is not tracked otherwise. Call with the tenant
// locked.
func (t *Tenant) Admit(h uint64, m *Metric, attrs pcommon.Map, now time.Time) Reason {
	sec := uint64(seconds(now))
	if v, ok := t.series[h]; ok {
		t.series[h] = sec<<32 | v&0xffffffff
		return OK
	}
	if r := t.checkAttributes(attrs); r != OK {
		return r
	}
	if t.limits.MaxSeriesPerTenant > 0 && t.active >= t.limits.MaxSeriesPerTenant {
		return TenantSeriesLimit
	}
	if m.idx >= 0 && t.limits.MaxSeriesPerMetric > 0 && int(t.counts[m.idx]) >= t.limits.MaxSeriesPerMetric {
		return MetricSeriesLimit
	}
	if m.idx < 0 {
		m.idx = t.addMetric(m.name)
	}
	t.counts[m.idx]++
	t.active++
	t.series[h] = sec<<32 | uint64(uint32(m.idx))
	return OK
}

func (t *Tenant) checkAttributes(attrs pcommon.Map) Reason {
	l := &t.limits
	if l.MaxAttributesPerSeries > 0 && attrs.Len() > l.MaxAttributesPerSeries {
		return TooManyAttributes
	}
	if l.MaxAttributeNameLength == 0 && l.MaxAttributeValueLength == 0 {
		return OK
	}
	r := OK
	for k, v := range attrs.All() {
		if l.MaxAttributeNameLength > 0 && len(k) > l.MaxAttributeNameLength {
			r = AttributeNameTooLong
			break
		}
		if l.MaxAttributeValueLength > 0 && v.Type() == pcommon.ValueTypeStr && len(v.Str()) > l.MaxAttributeValueLength {
			r = AttributeValueTooLong
			break
		}
	}
	return r
}

func (t *Tenant) addMetric(name string) int32 {
	name = strings.Clone(name)
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
		t.counts[i], t.names[i] = 0, name
	} else {
		i = int32(len(t.counts))
		t.counts = append(t.counts, 0)
		t.names = append(t.names, name)
	}
	t.metrics[name] = i
	return i
}

// sweep drops series last seen before cutoff (Unix seconds).
func (t *Tenant) sweep(cutoff int64) {
	if cutoff < 0 {
		return
	}
	for h, v := range t.series {
		if int64(v>>32) >= cutoff {
			continue
		}
		delete(t.series, h)
		i := int32(uint32(v))
		t.active--
		if t.counts[i]--; t.counts[i] == 0 {
			delete(t.metrics, t.names[i])
			t.names[i] = ""
			t.free = append(t.free, i)
		}
	}
}

// Active is the number of tracked series; call with the tenant locked.
func (t *Tenant) Active() int { return t.active }
