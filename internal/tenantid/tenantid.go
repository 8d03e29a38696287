// Package tenantid holds the rules for tenant IDs, shared by the tenant
// processor (which assigns tenants) and the tsdb exporter's query API
// (which takes a tenant from each request): the rules Mimir and Cortex apply
// to X-Scope-OrgID.
package tenantid // import "github.com/otelcol-goruntime/otelcol-goruntime/internal/tenantid"

import "fmt"

// MaxLength is the longest tenant ID accepted, as in Mimir.
const MaxLength = 150

// Validate checks a tenant ID: 1 to 150 characters from [a-zA-Z0-9!-_.*'()],
// and neither "." nor "..". The error names the problem and quotes the ID.
func Validate(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("tenant ID is empty")
	case len(id) > MaxLength:
		return fmt.Errorf("tenant ID %q is %d characters long, the limit is %d", id, len(id), MaxLength)
	case id == "." || id == "..":
		return fmt.Errorf("tenant ID %q is not allowed", id)
	}
	for i := 0; i < len(id); i++ {
		if !validChar(id[i]) {
			return fmt.Errorf("tenant ID %q has the character %q, allowed are letters, digits and !-_.*'()", id, id[i])
		}
	}
	return nil
}

func validChar(c byte) bool {
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
