package target

import (
	"context"
	"net/http"
	"net/http/pprof"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	return mux
}

func blockedWaiter(c chan struct{}) { <-c }

// spawnWaiters starts n goroutines blocked on a channel, all created here.
func spawnWaiters(n int) (stop func()) {
	c := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); blockedWaiter(c) }()
	}
	return func() { close(c); wg.Wait() }
}

func byAttr(t *testing.T, m pmetric.Metric, key string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	dps := m.Sum().DataPoints()
	for i := range dps.Len() {
		v, _ := dps.At(i).Attributes().Get(key)
		out[v.Str()] = dps.At(i).IntValue()
	}
	return out
}

func TestGoroutineDumps(t *testing.T) {
	stop := spawnWaiters(40)
	defer stop()
	tg, _ := newTarget(t, pprofMux())
	var ms map[string]pmetric.Metric
	// The waiters block soon after they start.
	for deadline := time.Now().Add(10 * time.Second); ; {
		tg.lastDump = time.Time{}
		md, err := tg.Scrape(context.Background(), time.Now())
		require.NoError(t, err)
		ms = names(md)
		if byAttr(t, ms["go.goroutine.status.count"], "go.goroutine.status")["chan receive"] >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	statuses := byAttr(t, ms["go.goroutine.status.count"], "go.goroutine.status")
	assert.GreaterOrEqual(t, statuses["chan receive"], int64(40))
	creators := byAttr(t, ms["go.goroutine.creator.count"], "go.goroutine.creator")
	assert.Equal(t, int64(40), creators["github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target.spawnWaiters"])
	assert.LessOrEqual(t, len(creators), 6, "top 5 creators and other")
	assert.Equal(t, int64(0), ms["go.goroutine.dump.grouped"].Gauge().DataPoints().At(0).IntValue())
	assert.Contains(t, ms, "go.goroutine.leaked.count")
	ages := byAttr(t, ms["go.goroutine.blocked.count"], "go.goroutine.wait.age")
	assert.Len(t, ages, 5)
	assert.Equal(t, map[string]int64{"goroutines": 1}, upBySource(pmetricFrom(ms)))

	// Within the interval there is no new dump (and this target offers
	// nothing else).
	md, err := tg.Scrape(context.Background(), time.Now())
	require.NoError(t, err)
	assert.Zero(t, md.DataPointCount())
}

// pmetricFrom wraps metrics by name back into a pmetric.Metrics for helpers.
func pmetricFrom(ms map[string]pmetric.Metric) pmetric.Metrics {
	md := pmetric.NewMetrics()
	out := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	for _, m := range ms {
		m.CopyTo(out.AppendEmpty())
	}
	return md
}

func TestOversizedDumpFallsBackToGrouped(t *testing.T) {
	stop := spawnWaiters(20)
	defer stop()
	tg, _ := newTarget(t, pprofMux())
	tg.s.MaxDumpSize = 64 << 10
	var ms map[string]pmetric.Metric
	for deadline := time.Now().Add(10 * time.Second); ; {
		tg.lastDump = time.Time{}
		// Make the full dump bigger than the cap and the grouped one not.
		md, err := tg.Scrape(context.Background(), time.Now())
		require.NoError(t, err)
		ms = names(md)
		if g, ok := ms["go.goroutine.dump.grouped"]; ok && g.Gauge().DataPoints().At(0).IntValue() == 1 || time.Now().After(deadline) {
			break
		}
		stop2 := spawnWaiters(200)
		defer stop2()
	}
	require.Contains(t, ms, "go.goroutine.dump.grouped")
	assert.Equal(t, int64(1), ms["go.goroutine.dump.grouped"].Gauge().DataPoints().At(0).IntValue(), "the data says the dump was grouped")
	assert.NotContains(t, ms, "go.goroutine.status.count", "a grouped dump has no statuses")
	creators := byAttr(t, ms["go.goroutine.creator.count"], "go.goroutine.creator")
	assert.GreaterOrEqual(t, creators["github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target.spawnWaiters.func1"], int64(20),
		"grouped dumps count by entry function")
}
