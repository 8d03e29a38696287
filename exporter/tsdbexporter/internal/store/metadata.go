package store

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
)

// metadataIndex keeps the type, unit and help of every metric family
// written, per tenant, for the /api/v1/metadata endpoint. It lives in
// memory: after a restart it fills again with the next writes, as
// Prometheus' own metadata does with the next scrapes.
type metadataIndex struct {
	tenantLabel string
	max         int

	mu       sync.RWMutex
	n        int
	byTenant map[string]map[string]metadata.Metadata
}

func newMetadataIndex(tenantLabel string, maxEntries int) *metadataIndex {
	if maxEntries <= 0 {
		maxEntries = 100_000
	}
	return &metadataIndex{tenantLabel: tenantLabel, max: maxEntries, byTenant: map[string]map[string]metadata.Metadata{}}
}

func (m *metadataIndex) record(ls labels.Labels, family string, md metadata.Metadata) {
	if md.IsEmpty() {
		return
	}
	tenant := ""
	if m.tenantLabel != "" {
		tenant = ls.Get(m.tenantLabel)
	}
	m.mu.RLock()
	cur, ok := m.byTenant[tenant][family]
	m.mu.RUnlock()
	if ok && cur == md {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fams := m.byTenant[tenant]
	if fams == nil {
		if m.n >= m.max {
			return
		}
		fams = map[string]metadata.Metadata{}
		m.byTenant[strings.Clone(tenant)] = fams
	}
	if _, ok := fams[family]; !ok {
		if m.n >= m.max {
			return
		}
		m.n++
		family = strings.Clone(family)
	}
	fams[family] = metadata.Metadata{Type: md.Type, Unit: strings.Clone(md.Unit), Help: strings.Clone(md.Help)}
}

// get returns the families of tenant, or of every tenant when tenant is "".
func (m *metadataIndex) get(tenant string) map[string][]metadata.Metadata {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := map[string][]metadata.Metadata{}
	add := func(fams map[string]metadata.Metadata) {
		for name, md := range fams {
			if !slices.Contains(out[name], md) {
				out[name] = append(out[name], md)
			}
		}
	}
	if tenant != "" {
		add(m.byTenant[tenant])
		return out
	}
	for _, fams := range m.byTenant {
		add(fams)
	}
	return out
}
