package limits

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Unix(1_700_000_000, 0)

func attrs(kv ...string) pcommon.Map {
	m := pcommon.NewMap()
	for i := 0; i+1 < len(kv); i += 2 {
		m.PutStr(kv[i], kv[i+1])
	}
	return m
}

// admit runs one Admit with the tenant locked.
func admit(t *testing.T, tr *Tracker, tenant, metric string, h uint64, a pcommon.Map, now time.Time) Reason {
	t.Helper()
	tn, r := tr.Tenant(tenant)
	if r != OK {
		return r
	}
	if !tn.Lock() {
		t.Fatal("tenant removed under the test")
	}
	defer tn.Unlock()
	m := tn.Metric(metric)
	return tn.Admit(h, &m, a, now)
}

func TestTenantAndMetricLimits(t *testing.T) {
	tr := NewTracker(Settings{
		IdleTimeout: time.Minute,
		Default:     Limits{MaxSeriesPerTenant: 5, MaxSeriesPerMetric: 3},
		Overrides:   map[string]Limits{"big": {MaxSeriesPerTenant: 100, MaxSeriesPerMetric: 100}},
	})
	a := attrs()
	for h := range uint64(3) {
		if r := admit(t, tr, "t", "m1", h, a, t0); r != OK {
			t.Fatalf("series %d of m1: %v", h, r)
		}
	}
	if r := admit(t, tr, "t", "m1", 3, a, t0); r != MetricSeriesLimit {
		t.Errorf("4th series of m1: %v, want metric_series_limit", r)
	}
	if r := admit(t, tr, "t", "m1", 0, a, t0); r != OK {
		t.Errorf("a known series must always pass: %v", r)
	}
	for h := uint64(10); h < 12; h++ {
		if r := admit(t, tr, "t", "m2", h, a, t0); r != OK {
			t.Fatalf("series %d of m2: %v", h, r)
		}
	}
	if r := admit(t, tr, "t", "m3", 20, a, t0); r != TenantSeriesLimit {
		t.Errorf("6th series of the tenant: %v, want tenant_series_limit", r)
	}
	// Another tenant, and one with an override, are not affected.
	for h := range uint64(10) {
		if r := admit(t, tr, "big", "m1", h, a, t0); r != OK {
			t.Fatalf("override tenant, series %d: %v", h, r)
		}
	}
	active := map[string][2]int{}
	tr.Each(func(tenant string, n, limit int) { active[tenant] = [2]int{n, limit} })
	if active["t"] != [2]int{5, 5} || active["big"] != [2]int{10, 100} {
		t.Errorf("active and limits = %v", active)
	}
}

func TestAttributeLimits(t *testing.T) {
	tr := NewTracker(Settings{Default: Limits{MaxAttributesPerSeries: 2, MaxAttributeNameLength: 5, MaxAttributeValueLength: 8}})
	for _, tc := range []struct {
		a    pcommon.Map
		want Reason
	}{
		{attrs("a", "1", "b", "2"), OK},
		{attrs("a", "1", "b", "2", "c", "3"), TooManyAttributes},
		{attrs("abcdef", "1"), AttributeNameTooLong},
		{attrs("a", strings.Repeat("x", 9)), AttributeValueTooLong},
	} {
		if r := admit(t, tr, "t", "m", uint64(tc.a.Len())*1000+uint64(len(fmt.Sprint(tc.a.AsRaw()))), tc.a, t0); r != tc.want {
			t.Errorf("%v: %v, want %v", tc.a.AsRaw(), r, tc.want)
		}
	}
}

func TestIdleSeriesFreeTheirSlots(t *testing.T) {
	tr := NewTracker(Settings{IdleTimeout: 10 * time.Second, Default: Limits{MaxSeriesPerTenant: 2}})
	a := attrs()
	admit(t, tr, "t", "m", 1, a, t0)
	admit(t, tr, "t", "m", 2, a, t0)
	if r := admit(t, tr, "t", "m", 3, a, t0); r != TenantSeriesLimit {
		t.Fatalf("over the limit: %v", r)
	}
	// Series 1 stays alive; series 2 goes idle.
	admit(t, tr, "t", "m", 1, a, t0.Add(8*time.Second))
	tr.Sweep(t0.Add(10 * time.Second))
	if r := admit(t, tr, "t", "m", 3, a, t0.Add(10*time.Second)); r != TenantSeriesLimit {
		t.Fatalf("a series is freed only after the full idle timeout: %v", r)
	}
	tr.Sweep(t0.Add(11 * time.Second))
	if r := admit(t, tr, "t", "m", 3, a, t0.Add(11*time.Second)); r != OK {
		t.Fatalf("after series 2 expired: %v", r)
	}
	if r := admit(t, tr, "t", "m", 1, a, t0.Add(11*time.Second)); r != OK {
		t.Fatalf("series 1 was seen recently and must still be tracked: %v", r)
	}
	// Everything idle: the tenant itself is forgotten.
	tr.Sweep(t0.Add(time.Hour))
	n := 0
	tr.Each(func(string, int, int) { n++ })
	if n != 0 {
		t.Errorf("%d tenants left after everything expired", n)
	}
}

func TestMaxTenants(t *testing.T) {
	tr := NewTracker(Settings{MaxTenants: 2})
	a := attrs()
	admit(t, tr, "a", "m", 1, a, t0)
	admit(t, tr, "b", "m", 1, a, t0)
	if r := admit(t, tr, "c", "m", 1, a, t0); r != TenantLimit {
		t.Errorf("third tenant: %v, want tenant_limit", r)
	}
}

func TestUpdateKeepsSeries(t *testing.T) {
	tr := NewTracker(Settings{Default: Limits{MaxSeriesPerTenant: 4}})
	a := attrs()
	for h := range uint64(4) {
		admit(t, tr, "t", "m", h, a, t0)
	}
	// Lower the limit: nothing is evicted, nothing new is admitted.
	tr.Update(Settings{Default: Limits{MaxSeriesPerTenant: 2}})
	for h := range uint64(4) {
		if r := admit(t, tr, "t", "m", h, a, t0); r != OK {
			t.Errorf("live series %d refused after lowering the limit: %v", h, r)
		}
	}
	if r := admit(t, tr, "t", "m", 9, a, t0); r != TenantSeriesLimit {
		t.Errorf("new series after lowering: %v", r)
	}
	tr.Update(Settings{Default: Limits{MaxSeriesPerTenant: 6}})
	if r := admit(t, tr, "t", "m", 9, a, t0); r != OK {
		t.Errorf("new series after raising: %v", r)
	}
}

func TestMetricSlotsAreReused(t *testing.T) {
	tr := NewTracker(Settings{IdleTimeout: time.Second})
	a := attrs()
	for i := range 100 {
		now := t0.Add(time.Duration(i) * 10 * time.Second)
		admit(t, tr, "t", fmt.Sprint("metric", i), uint64(i), a, now)
		tr.Sweep(now.Add(5 * time.Second))
	}
	tn, _ := tr.Tenant("t")
	tn.Lock()
	defer tn.Unlock()
	if len(tn.counts) > 2 || len(tn.metrics) > 1 {
		t.Errorf("metric table grew to %d slots, %d names for metrics that come and go", len(tn.counts), len(tn.metrics))
	}
}

func TestConcurrentAdmitAndSweep(t *testing.T) {
	tr := NewTracker(Settings{IdleTimeout: time.Second, Default: Limits{MaxSeriesPerTenant: 1000}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			a := attrs()
			for i := range 2000 {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				admit(t, tr, fmt.Sprint("tenant", g%3), "m", uint64(i%1500), a, now)
				if i%500 == 0 {
					tr.Sweep(now)
				}
			}
		})
	}
	wg.Wait()
	tr.Each(func(tenant string, active, limit int) {
		if active > limit {
			t.Errorf("%s: %d active over the limit %d", tenant, active, limit)
		}
	})
}

// BenchmarkBytesPerSeries reports the memory one tracked series holds.
func BenchmarkBytesPerSeries(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var perSeries float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				tr := NewTracker(Settings{})
				tn, _ := tr.Tenant("t")
				tn.Lock()
				m := tn.Metric("go.goroutine.count")
				a := attrs()
				for h := range uint64(n) {
					tn.Admit(h*0x9e3779b97f4a7c15, &m, a, t0)
				}
				tn.Unlock()
				runtime.GC()
				runtime.ReadMemStats(&after)
				perSeries = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
				runtime.KeepAlive(tr)
			}
			b.ReportMetric(perSeries, "bytes/series")
		})
	}
}
