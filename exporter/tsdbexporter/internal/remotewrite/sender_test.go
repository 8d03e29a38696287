package remotewrite

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// received is one request the scripted server got.
type received struct {
	header http.Header
	req    prompb.WriteRequest
}

// scripted answers each request with the next status of script (the last
// one repeats) and records what it got.
type scripted struct {
	mu       sync.Mutex
	script   []func(w http.ResponseWriter)
	requests []received
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	var wr prompb.WriteRequest
	if err == nil {
		err = wr.Unmarshal(raw)
	}
	if err != nil {
		http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, received{r.Header.Clone(), wr})
	i := min(len(s.requests)-1, len(s.script)-1)
	answer := s.script[i]
	s.mu.Unlock()
	answer(w)
}

func status(code int, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte("line one of the answer\nline two"))
	}
}

// writeOnly passes h the remote write requests and answers anything else
// 404 uncounted: host discovery in another test process may probe this
// one's ports.
func writeOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/write" {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func newSender(t *testing.T, srv *httptest.Server, shards int) *Sender {
	t.Helper()
	client := srv.Client()
	t.Cleanup(client.CloseIdleConnections)
	return New(Options{
		Client: client, Endpoint: srv.URL + "/api/v1/write", TenantLabel: "tenant", TenantHeader: "X-Scope-OrgID",
		Shards: shards, NativeHistograms: true, UserAgent: "otelcol-goruntime/test",
		Settings: prometheusremotewrite.Settings{
			AddMetricSuffixes:         true,
			PromoteResourceAttributes: prometheusremotewrite.NewPromoteResourceAttributes(config.OTLPConfig{PromoteResourceAttributes: []string{"tenant"}}),
		},
	})
}

// batch builds, per tenant, one gauge with n series and k samples each.
func batch(n, k int, tenants ...string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	base := time.Unix(1_700_000_000, 0)
	for _, tenant := range tenants {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "api")
		rm.Resource().Attributes().PutStr("tenant", tenant)
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("g")
		dps := m.SetEmptyGauge().DataPoints()
		// Samples in reverse time order: the sender must order them.
		for j := k - 1; j >= 0; j-- {
			for i := range n {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(j) * time.Second)))
				dp.SetIntValue(int64(j))
				dp.Attributes().PutStr("series", strconv.Itoa(i))
				dp.Attributes().PutStr("a_first", "x")
			}
		}
	}
	return md
}

func TestRequestsAreWellFormed(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter){status(http.StatusNoContent)}}
	srv := httptest.NewServer(writeOnly(s))
	defer srv.Close()
	res, err := newSender(t, srv, 4).Send(context.Background(), batch(50, 3, "team-a", "team-b"))
	require.NoError(t, err)
	// 50 series and target_info per tenant.
	assert.Equal(t, 102, res.Series)

	perTenant := map[string]int{}
	seen := map[string]bool{}
	for _, r := range s.requests {
		assert.Equal(t, "snappy", r.header.Get("Content-Encoding"))
		assert.Equal(t, "application/x-protobuf", r.header.Get("Content-Type"))
		assert.Equal(t, "0.1.0", r.header.Get("X-Prometheus-Remote-Write-Version"))
		assert.Equal(t, "otelcol-goruntime/test", r.header.Get("User-Agent"))
		tenant := r.header.Get("X-Scope-OrgID")
		for _, ts := range r.req.Timeseries {
			names := make([]string, 0, len(ts.Labels))
			for _, l := range ts.Labels {
				names = append(names, l.Name)
				if l.Name == "tenant" {
					assert.Equal(t, tenant, l.Value, "a request carries one tenant's series")
				}
			}
			assert.True(t, sort.StringsAreSorted(names), "labels sorted: %v", names)
			assert.Len(t, names, len(uniq(names)), "no duplicate labels")
			key := tenant + "|" + labelString(ts.Labels)
			assert.False(t, seen[key], "a series is in exactly one shard")
			seen[key] = true
			for i := 1; i < len(ts.Samples); i++ {
				assert.Less(t, ts.Samples[i-1].Timestamp, ts.Samples[i].Timestamp, "samples in timestamp order")
			}
			perTenant[tenant]++
		}
	}
	assert.Equal(t, map[string]int{"team-a": 51, "team-b": 51}, perTenant)
	assert.GreaterOrEqual(t, len(s.requests), 4, "series are sharded over several requests")
}

func labelString(ls []prompb.Label) string {
	out := ""
	for _, l := range ls {
		out += l.Name + "=" + l.Value + ","
	}
	return out
}

func uniq(in []string) map[string]bool {
	out := map[string]bool{}
	for _, s := range in {
		out[s] = true
	}
	return out
}

func TestErrorsAreClassified(t *testing.T) {
	for _, tc := range []struct {
		name      string
		answer    func(http.ResponseWriter)
		permanent bool
		throttle  string
	}{
		{"500 is retried", status(http.StatusInternalServerError), false, ""},
		{"503 with Retry-After waits", status(http.StatusServiceUnavailable, "Retry-After", "7"), false, "Throttle (7s)"},
		{"429 with Retry-After waits", status(http.StatusTooManyRequests, "Retry-After", "3"), false, "Throttle (3s)"},
		{"429 without Retry-After is retried", status(http.StatusTooManyRequests), false, ""},
		{"400 is not retried", status(http.StatusBadRequest), true, ""},
		{"404 is not retried", status(http.StatusNotFound), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{script: []func(http.ResponseWriter){tc.answer}}
			srv := httptest.NewServer(writeOnly(s))
			defer srv.Close()
			_, err := newSender(t, srv, 1).Send(context.Background(), batch(3, 1, "a"))
			require.Error(t, err)
			assert.Equal(t, tc.permanent, consumererror.IsPermanent(err), err.Error())
			assert.Contains(t, err.Error(), "line one of the answer", "the body's first line is kept")
			assert.NotContains(t, err.Error(), "line two")
			// exporterhelper's throttle error shows itself, and the wait the
			// exporter will honour, only in its text.
			if tc.throttle != "" {
				assert.True(t, strings.HasPrefix(err.Error(), tc.throttle), err.Error())
			} else {
				assert.False(t, strings.HasPrefix(err.Error(), "Throttle ("), err.Error())
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	assert.Equal(t, 5*time.Second, retryAfter("5", now))
	assert.Equal(t, 30*time.Second, retryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, retryAfter("soon", now))
	assert.Zero(t, retryAfter("-3", now))
	assert.Zero(t, retryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
}

func TestTransportFailureIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	s := New(Options{Client: http.DefaultClient, Endpoint: srv.URL, Shards: 2})
	_, err := s.Send(context.Background(), batch(2, 1, "a"))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
}

// seriesAt builds one gauge with the named series, samples at the given
// times.
func seriesAt(names []string, times ...time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	rm.Resource().Attributes().PutStr("tenant", "team-a")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("g")
	dps := m.SetEmptyGauge().DataPoints()
	for _, ts := range times {
		for _, n := range names {
			dp := dps.AppendEmpty()
			dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
			dp.SetDoubleValue(1)
			dp.Attributes().PutStr("series", n)
		}
	}
	return md
}

func TestSeriesThatEndGetAStalenessMarker(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter){status(http.StatusNoContent)}}
	srv := httptest.NewServer(writeOnly(s))
	defer srv.Close()
	t0 := time.Unix(1_700_000_000, 0)
	var now time.Time
	sender := newSender(t, srv, 2)
	sender.stale = newStaleness((30 * time.Second).Milliseconds(), 100)

	// a and b every 15 s; then only a.
	_, err := sender.Send(context.Background(), seriesAt([]string{"a", "b"}, t0.Add(-15*time.Second), t0))
	require.NoError(t, err)
	now = t0.Add(15 * time.Second)
	_, err = sender.Send(context.Background(), seriesAt([]string{"a"}, now))
	require.NoError(t, err)
	assert.Zero(t, markers(s), "b has been gone only one interval")

	now = t0.Add(45 * time.Second)
	res, err := sender.Send(context.Background(), seriesAt([]string{"a"}, now))
	require.NoError(t, err)
	got := markers(s)
	require.Len(t, got, 1, "b ended: one marker")
	assert.Equal(t, "b", got[0].series)
	assert.Equal(t, t0.Add(15*time.Second).UnixMilli(), got[0].at, "one interval after its last sample")
	assert.Equal(t, 1, res.StalenessMarkers)

	now = t0.Add(60 * time.Second)
	_, err = sender.Send(context.Background(), seriesAt([]string{"a"}, now))
	require.NoError(t, err)
	assert.Len(t, markers(s), 1, "a marker is sent once")
}

type marker struct {
	series string
	at     int64
}

// markers lists the staleness markers the scripted server received.
func markers(s *scripted) []marker {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []marker
	for _, r := range s.requests {
		for _, ts := range r.req.Timeseries {
			for _, smp := range ts.Samples {
				if math.Float64bits(smp.Value) != value.StaleNaN {
					continue
				}
				m := marker{at: smp.Timestamp}
				for _, l := range ts.Labels {
					if l.Name == "series" {
						m.series = l.Value
					}
				}
				if m.series != "" {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// TestBatchesDoNotShareSeries sends batches of different shapes one after
// another through one Sender, whose collectors and series are reused: every
// request holds exactly its own batch's series and samples.
func TestBatchesDoNotShareSeries(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter){status(http.StatusNoContent)}}
	srv := httptest.NewServer(writeOnly(s))
	defer srv.Close()
	sender := newSender(t, srv, 2)
	for _, tc := range []struct {
		n, k    int
		tenants []string
	}{{50, 3, []string{"team-a", "team-b"}}, {5, 1, []string{"team-c"}}, {120, 2, []string{"team-a"}}, {1, 4, []string{"team-b", "team-c"}}} {
		s.mu.Lock()
		s.requests = nil
		s.mu.Unlock()
		res, err := sender.Send(context.Background(), batch(tc.n, tc.k, tc.tenants...))
		require.NoError(t, err)
		require.Equal(t, (tc.n+1)*len(tc.tenants), res.Series, "%d series and target_info per tenant", tc.n)
		series, samples := map[string]bool{}, 0
		for _, r := range s.requests {
			tenant := r.header.Get("X-Scope-OrgID")
			require.Contains(t, tc.tenants, tenant)
			for _, ts := range r.req.Timeseries {
				key := tenant + "|" + labelString(ts.Labels)
				require.False(t, series[key], "%s twice", key)
				series[key] = true
				samples += len(ts.Samples)
				if !strings.Contains(key, "target_info") {
					require.Len(t, ts.Samples, tc.k, key)
				}
			}
		}
		require.Len(t, series, res.Series)
		require.Equal(t, res.Samples, samples)
	}
}

// TestCollectorReleaseForgetsIdleTenants: a released collector keeps the
// room of tenants it used and nothing of those it did not.
func TestCollectorReleaseForgetsIdleTenants(t *testing.T) {
	c := &collector{tenantLabel: "tenant", byTenant: map[string]*tenantSeries{}}
	add := func(tenant, name string) {
		ls := labels.FromStrings("__name__", name, "tenant", tenant)
		_, err := c.Append(0, ls, 0, 1, 1, nil, nil, storage.AppendV2Options{})
		require.NoError(t, err)
	}
	add("a", "x")
	add("b", "x")
	add("b", "y")
	c.reset()
	require.Len(t, c.byTenant, 2, "both were used")
	require.Zero(t, c.used)
	for _, s := range c.slab[:3] {
		require.True(t, s.labels.IsEmpty(), "no labels kept past the batch")
		require.Empty(t, s.samples)
	}
	add("a", "y")
	c.reset()
	require.Len(t, c.byTenant, 1, "b was idle for a batch")
	c.reset()
	require.Empty(t, c.byTenant, "then a")
	add("c", "x")
	tenants, byTenant := c.tenants()
	require.Equal(t, []string{"c"}, tenants)
	require.Len(t, byTenant["c"], 1)
	require.Equal(t, "x", byTenant["c"][0].labels.Get("__name__"))
}

// TestSnappyBody: the body reads as the compressed request and goes back
// to the pool once, however often it is closed.
func TestSnappyBody(t *testing.T) {
	raw := []byte(strings.Repeat("remote write ", 1000))
	b := newSnappyBody(raw)
	got, err := io.ReadAll(b)
	require.NoError(t, err)
	dec, err := snappy.Decode(nil, got)
	require.NoError(t, err)
	require.Equal(t, raw, dec)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	require.Zero(t, b.Len(), "nothing left to read after Close")
}
