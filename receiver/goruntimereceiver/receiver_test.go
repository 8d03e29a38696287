package goruntimereceiver

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
)

// TestReceiverDeliversSelfMetrics runs the receiver through the scraper
// controller and checks what reaches the next consumer.
func TestReceiverDeliversSelfMetrics(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 10 * time.Millisecond
	cfg.InitialDelay = 0
	set := receivertest.NewNopSettings(metadata.Type)
	set.BuildInfo.Command = "otelcol-test"
	set.Resource.Attributes().PutStr("service.instance.id", "abc-123")
	sink := new(consumertest.MetricsSink)

	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= 2 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))

	md := sink.AllMetrics()[0]
	require.Equal(t, 1, md.ResourceMetrics().Len())
	res := md.ResourceMetrics().At(0).Resource().Attributes()
	assertStr(t, res, "service.name", "otelcol-test")
	assertStr(t, res, "service.instance.id", "abc-123")
	assertStr(t, res, "process.runtime.name", "go")
	// 18 sum points, the two histograms, and the memory limit if one is set.
	want := 20
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		want++
	}
	assert.Equal(t, want, md.DataPointCount())
}

func TestServiceNameFromConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Self.ServiceName = "edge"
	s := newGoRuntimeScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	assertStr(t, md.ResourceMetrics().At(0).Resource().Attributes(), "service.name", "edge")
	require.NoError(t, s.shutdown(context.Background()))
}

func assertStr(t *testing.T, m pcommon.Map, key, want string) {
	t.Helper()
	v, ok := m.Get(key)
	if assert.True(t, ok, "resource attribute %s missing", key) {
		assert.Equal(t, want, v.Str(), key)
	}
}
