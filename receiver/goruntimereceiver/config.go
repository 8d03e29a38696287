package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"errors"

	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

// Config is the go_runtime receiver's configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	metadata.MetricsBuilderConfig  `mapstructure:",squash"`

	// Self reads the Go runtime of the collector's own process.
	Self SelfConfig `mapstructure:"self"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// SelfConfig configures the self source.
type SelfConfig struct {
	// Enabled turns the self source on.
	Enabled bool `mapstructure:"enabled"`
	// ServiceName is the service.name of the collector's own resource; empty
	// means the collector's command name.
	ServiceName string `mapstructure:"service_name"`
}

// Validate checks the configuration for values the receiver cannot run with.
func (cfg *Config) Validate() error {
	if !cfg.Self.Enabled {
		return errors.New(`no source is enabled: set "self::enabled: true"`)
	}
	return nil
}
