package tenantprocessor // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor"

import (
	"errors"
	"fmt"
	"sort"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/tenancy"
)

// Config is the tenant processor's configuration.
type Config struct {
	// AttributeKey is the resource attribute the tenant is written to. Any
	// value a sender put there is overwritten.
	AttributeKey string `mapstructure:"attribute_key"`
	// DefaultTenant is the tenant of every stream.
	DefaultTenant string `mapstructure:"default_tenant"`
	// Namespace labels are added to every data point.
	Namespace NamespaceConfig `mapstructure:"namespace"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// NamespaceConfig configures the labels added to every data point.
type NamespaceConfig struct {
	// Attributes are set on every data point, overwriting a value of the
	// same key the sender put there.
	Attributes map[string]string `mapstructure:"attributes"`
}

// Validate checks the configuration for values the processor cannot run with.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.AttributeKey == "" {
		errs = append(errs, errors.New(`"attribute_key" must not be empty`))
	}
	if err := tenancy.ValidateID(cfg.DefaultTenant); err != nil {
		errs = append(errs, fmt.Errorf(`"default_tenant": %w`, err))
	}
	keys := make([]string, 0, len(cfg.Namespace.Attributes))
	for k := range cfg.Namespace.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "":
			errs = append(errs, errors.New(`"namespace::attributes" has an empty key`))
		case cfg.AttributeKey:
			errs = append(errs, fmt.Errorf(`"namespace::attributes" must not set %q, the tenant attribute`, k))
		}
	}
	return errors.Join(errs...)
}
