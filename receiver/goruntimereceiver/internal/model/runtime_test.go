package model

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

// askedValues records every runtime/metrics name the model asks for.
type askedValues map[string]bool

func (a askedValues) Int(name string) (int64, bool)     { a[name] = true; return 1, true }
func (a askedValues) Float(name string) (float64, bool) { a[name] = true; return 1, true }
func (a askedValues) Histogram(name string) ([]float64, []uint64, bool) {
	a[name] = true
	return nil, nil, false
}

// TestRuntimeNamesComplete: a /metrics scrape decodes only the families
// whose source RuntimeNames lists, so every name the model asks for must
// be there.
func TestRuntimeNamesComplete(t *testing.T) {
	asked := askedValues{}
	mb := metadata.NewMetricsBuilder(metadata.NewDefaultMetricsBuilderConfig(), receivertest.NewNopSettings(metadata.Type))
	RecordRuntime(mb, 0, asked, MetricSet{})
	AppendRuntimeHistograms(pmetric.NewMetricSlice(), asked, 0, 0)
	require.Greater(t, len(asked), 20)
	for name := range asked {
		require.Contains(t, RuntimeNames, name)
	}
}
