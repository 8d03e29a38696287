// Package tenancy decides which tenant a stream belongs to.
package tenancy // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/tenancy"

import (
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-goruntime/otelcol-goruntime/internal/tenantid"
)

// Outcome of resolving a tenant.
type Outcome uint8

const (
	// Found means a source gave a valid tenant ID.
	Found Outcome = iota
	// Missing means no source gave a tenant and there is no default.
	Missing
	// Invalid means the first source that gave a value gave an invalid ID;
	// later sources are not asked, so a bad ID never ends up in another
	// tenant.
	Invalid
)

// Source is one place a tenant can come from.
type Source interface {
	// Lookup returns the tenant named for res, and whether this source
	// names one at all.
	Lookup(md client.Metadata, res pcommon.Resource) (string, bool)
}

// Metadata reads the tenant from request metadata, such as the
// X-Scope-OrgID header the OTLP receiver keeps with include_metadata.
type Metadata string

// Lookup returns the header's value. Several values are given back joined,
// which makes them an invalid ID: a request naming two tenants is refused.
func (m Metadata) Lookup(md client.Metadata, _ pcommon.Resource) (string, bool) {
	vals := md.Get(string(m))
	switch len(vals) {
	case 0:
		return "", false
	case 1:
		return vals[0], true
	}
	joined := vals[0]
	for _, v := range vals[1:] {
		joined += "," + v
	}
	return joined, true
}

// Attribute reads the tenant from a resource attribute.
type Attribute string

// Lookup returns the attribute's value as a string.
func (a Attribute) Lookup(_ client.Metadata, res pcommon.Resource) (string, bool) {
	v, ok := res.Attributes().Get(string(a))
	if !ok {
		return "", false
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str(), true
	}
	return v.AsString(), true
}

// Mapping maps the value of a resource attribute to a tenant; values not in
// the table name no tenant.
type Mapping struct {
	Attribute string
	Values    map[string]string
}

// Lookup returns the tenant mapped from the attribute's value.
func (m Mapping) Lookup(_ client.Metadata, res pcommon.Resource) (string, bool) {
	v, ok := res.Attributes().Get(m.Attribute)
	if !ok {
		return "", false
	}
	t, ok := m.Values[v.AsString()]
	return t, ok
}

// Resolver asks its sources in order; the first that names a tenant decides,
// and the default applies when none does.
type Resolver struct {
	Sources []Source
	// Default is the tenant of streams no source names; empty means such
	// streams are refused.
	Default string
}

// Resolve returns the tenant of a resource received with metadata md.
func (r *Resolver) Resolve(md client.Metadata, res pcommon.Resource) (string, Outcome) {
	for _, s := range r.Sources {
		id, ok := s.Lookup(md, res)
		if !ok {
			continue
		}
		if tenantid.Validate(id) != nil {
			return id, Invalid
		}
		return id, Found
	}
	if r.Default == "" {
		return "", Missing
	}
	return r.Default, Found
}
