// Package tenancy decides which tenant a stream belongs to and checks tenant
// IDs.
package tenancy // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/tenancy"

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// MaxIDLength is the longest tenant ID accepted, as in Mimir.
const MaxIDLength = 150

// ValidateID checks a tenant ID with the rules Mimir and Cortex apply to
// X-Scope-OrgID: 1 to 150 characters from [a-zA-Z0-9!-_.*'()], and neither
// "." nor "..". The error names the problem and quotes the ID.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("tenant ID is empty")
	case len(id) > MaxIDLength:
		return fmt.Errorf("tenant ID %q is %d characters long, the limit is %d", id, len(id), MaxIDLength)
	case id == "." || id == "..":
		return fmt.Errorf("tenant ID %q is not allowed", id)
	}
	for i := 0; i < len(id); i++ {
		if !validIDChar(id[i]) {
			return fmt.Errorf("tenant ID %q has the character %q, allowed are letters, digits and !-_.*'()", id, id[i])
		}
	}
	return nil
}

func validIDChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '-', '_', '.', '*', '\'', '(', ')':
		return true
	}
	return false
}

// Resolver decides the tenant of one resource's streams.
type Resolver interface {
	// Resolve returns the tenant for the resource in the request context ctx.
	Resolve(ctx context.Context, res pcommon.Resource) string
}

// Static puts every stream in one tenant.
type Static string

// Resolve returns the static tenant.
func (s Static) Resolve(context.Context, pcommon.Resource) string { return string(s) }
