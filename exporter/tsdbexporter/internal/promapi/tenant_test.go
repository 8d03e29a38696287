package promapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTenantServer stores the same metric for tenants a and b, and a metric
// only b has, and serves it with tenancy on (tenant from X-Scope-OrgID).
func newTenantServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	app := db.Appender(context.Background())
	for _, ls := range []labels.Labels{
		labels.FromStrings("__name__", "go_goroutine_count", "tenant", "a", "job", "api"),
		labels.FromStrings("__name__", "go_goroutine_count", "tenant", "b", "job", "secret-job"),
		labels.FromStrings("__name__", "b_only_metric", "tenant", "b", "b_only_label", "x"),
	} {
		_, err := app.Append(0, ls, t0.UnixMilli(), 1)
		require.NoError(t, err)
	}
	require.NoError(t, app.Commit())
	api := New(db, Options{
		Timeout: time.Minute, MaxSamples: 1000, LookbackDelta: 5 * time.Minute, SubqueryStep: time.Minute,
		TenantLabel: "tenant",
		Tenant: func(r *http.Request) (string, error) {
			if v := r.Header.Get("X-Scope-OrgID"); v != "" {
				return v, nil
			}
			return "", errors.New("no tenant: send the X-Scope-OrgID header")
		},
		Metadata: func(tenant string) map[string][]metadata.Metadata {
			all := map[string]map[string][]metadata.Metadata{
				"a": {"go_goroutine_count": {{Type: "gauge", Help: "Count of live goroutines."}}},
				"b": {"go_goroutine_count": {{Type: "gauge", Help: "Count of live goroutines."}}, "b_only_metric": {{Type: "counter"}}},
			}
			return all[tenant]
		},
	})
	api.now = func() time.Time { return t0.Add(time.Minute) }
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func tenantGet(t *testing.T, srv *httptest.Server, tenant, path string, params url.Values) (int, apiResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path+"?"+params.Encode(), http.NoBody)
	require.NoError(t, err)
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return decode(t, resp)
}

// TestTenantCannotReadAnotherTenant tries every way tenant a could read
// tenant b's series; none may return anything of b's.
func TestTenantCannotReadAnotherTenant(t *testing.T) {
	srv := newTenantServer(t)
	attempts := []struct {
		path   string
		params url.Values
	}{
		{"/api/v1/query", url.Values{"query": {`go_goroutine_count{tenant="b"}`}}},
		{"/api/v1/query", url.Values{"query": {`go_goroutine_count{tenant=~"b|a"}`}}},
		{"/api/v1/query", url.Values{"query": {`go_goroutine_count{tenant!="a"}`}}},
		{"/api/v1/query", url.Values{"query": {`{__name__=~".+"}`}}},
		{"/api/v1/query", url.Values{"query": {`{tenant="", job=~".+"}`}}},
		{"/api/v1/query", url.Values{"query": {`b_only_metric`}}},
		{"/api/v1/query", url.Values{"query": {`sum without (tenant) (go_goroutine_count)`}}},
		{"/api/v1/query", url.Values{"query": {`label_replace(go_goroutine_count, "tenant", "a", "tenant", ".*")`}}},
		{"/api/v1/query", url.Values{"query": {`count({__name__!=""})`}}},
		{"/api/v1/query", url.Values{"query": {`go_goroutine_count offset -1m or go_goroutine_count @ 1700000000`}}},
		{"/api/v1/query_range", url.Values{"query": {`{__name__=~".+"}`}, "start": {"1700000000"}, "end": {"1700000060"}, "step": {"15"}}},
		{"/api/v1/series", url.Values{"match[]": {`{__name__=~".+"}`}}},
		{"/api/v1/series", url.Values{"match[]": {`{tenant="b"}`}}},
		{"/api/v1/labels", nil},
		{"/api/v1/labels", url.Values{"match[]": {`{tenant="b"}`}}},
		{"/api/v1/label/job/values", nil},
		{"/api/v1/label/__name__/values", nil},
		{"/api/v1/label/tenant/values", nil},
		{"/api/v1/label/b_only_label/values", nil},
		{"/api/v1/metadata", nil},
	}
	for _, a := range attempts {
		t.Run(a.path+"?"+a.params.Encode(), func(t *testing.T) {
			code, r := tenantGet(t, srv, "a", a.path, a.params)
			require.Equal(t, http.StatusOK, code, r.Error)
			body := string(r.Data)
			for _, leak := range []string{`"b"`, "secret-job", "b_only"} {
				assert.NotContains(t, body, leak, "tenant a saw tenant b's data")
			}
		})
	}
	// And a's own data is there.
	_, r := tenantGet(t, srv, "a", "/api/v1/query", url.Values{"query": {`count({__name__=~".+"})`}})
	assert.Contains(t, string(r.Data), `"1"`)
	_, r = tenantGet(t, srv, "b", "/api/v1/label/__name__/values", nil)
	assert.JSONEq(t, `["b_only_metric","go_goroutine_count"]`, string(r.Data))
}

func TestTenantIsRequired(t *testing.T) {
	srv := newTenantServer(t)
	for _, path := range []string{"/api/v1/query?query=up", "/api/v1/series?match[]=up", "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/metadata"} {
		code, r := tenantGet(t, srv, "", path[:strings.IndexByte(path+"?", '?')], queryOf(path))
		assert.Equal(t, http.StatusUnauthorized, code, path)
		assert.Contains(t, r.Error, "no tenant: send the X-Scope-OrgID header", path)
	}
	// buildinfo reads no series and answers without a tenant (data source
	// health checks call it).
	code, _ := tenantGet(t, srv, "", "/api/v1/status/buildinfo", nil)
	assert.Equal(t, http.StatusOK, code)
}

func queryOf(path string) url.Values {
	_, q, _ := strings.Cut(path, "?")
	v, _ := url.ParseQuery(q)
	return v
}

func TestMetadataEndpoint(t *testing.T) {
	srv := newTenantServer(t)
	_, r := tenantGet(t, srv, "b", "/api/v1/metadata", nil)
	assert.JSONEq(t, `{"b_only_metric":[{"type":"counter","unit":"","help":""}],"go_goroutine_count":[{"type":"gauge","unit":"","help":"Count of live goroutines."}]}`, string(r.Data))
	_, r = tenantGet(t, srv, "b", "/api/v1/metadata", url.Values{"metric": {"b_only_metric"}})
	assert.JSONEq(t, `{"b_only_metric":[{"type":"counter","unit":"","help":""}]}`, string(r.Data))
	_, r = tenantGet(t, srv, "b", "/api/v1/metadata", url.Values{"limit": {"1"}})
	assert.JSONEq(t, `{"b_only_metric":[{"type":"counter","unit":"","help":""}]}`, string(r.Data))
	code, r := tenantGet(t, srv, "b", "/api/v1/metadata", url.Values{"limit_per_metric": {"x"}})
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, r.Error, `invalid parameter "limit_per_metric"`)
}

func TestSnapshotEndpoint(t *testing.T) {
	srv := newServer(t) // no Snapshot function: admin APIs are off
	resp, err := http.Post(srv.URL+"/api/v1/admin/tsdb/snapshot", "", http.NoBody)
	require.NoError(t, err)
	code, r := decode(t, resp)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "admin APIs disabled", r.Error)

	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	dir := t.TempDir()
	api := New(db, Options{Timeout: time.Minute, MaxSamples: 10, SubqueryStep: time.Minute, Snapshot: func() (string, error) {
		return dir + "/20261121T000000Z-x", db.Snapshot(dir+"/20261121T000000Z-x", true)
	}})
	srv2 := httptest.NewServer(api.Handler())
	defer srv2.Close()
	resp, err = http.Post(srv2.URL+"/api/v1/admin/tsdb/snapshot", "", http.NoBody)
	require.NoError(t, err)
	code, r = decode(t, resp)
	require.Equal(t, http.StatusOK, code, r.Error)
	assert.JSONEq(t, `{"name":"20261121T000000Z-x"}`, string(r.Data))
}
