package promapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	// The benchmarks' shared store lives until every benchmark is done.
	if dashboardDB.db != nil {
		_ = dashboardDB.db.Close()
		_ = os.RemoveAll(dashboardDB.db.Dir())
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// t0 is the first sample; samples follow every 15 s for 10 minutes.
var t0 = time.Unix(1_700_000_000, 0)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	app := db.Appender(context.Background())
	for _, s := range []labels.Labels{
		labels.FromStrings("__name__", "go_goroutine_count", "job", "api", "tenant", "a"),
		labels.FromStrings("__name__", "go_goroutine_count", "job", "db", "tenant", "b"),
	} {
		for i := range 40 {
			_, err := app.Append(0, s, t0.Add(time.Duration(i)*15*time.Second).UnixMilli(), float64(i*len(s.Get("job"))))
			require.NoError(t, err)
		}
	}
	require.NoError(t, app.Commit())
	api := New(db, Options{Timeout: time.Minute, MaxSamples: 1_000_000, LookbackDelta: 5 * time.Minute, SubqueryStep: time.Minute, Version: "test"})
	api.now = func() time.Time { return t0.Add(10 * time.Minute) }
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func get(t *testing.T, srv *httptest.Server, path string, params url.Values) (int, apiResponse) {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + params.Encode())
	require.NoError(t, err)
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, apiResponse) {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var r apiResponse
	require.NoError(t, json.Unmarshal(body, &r), string(body))
	return resp.StatusCode, r
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestInstantQuery(t *testing.T) {
	srv := newServer(t)
	code, r := get(t, srv, "/api/v1/query", url.Values{"query": {`go_goroutine_count{job="api"}`}, "time": {unix(t0.Add(5 * time.Minute))}})
	require.Equal(t, http.StatusOK, code, r.Error)
	assert.Equal(t, "success", r.Status)
	assert.JSONEq(t, `{"resultType":"vector","result":[{"metric":{"__name__":"go_goroutine_count","job":"api","tenant":"a"},"value":[1700000300,"60"]}]}`, string(r.Data))
}

func TestInstantQueryDefaultsToNowAndAcceptsPOST(t *testing.T) {
	srv := newServer(t)
	resp, err := http.PostForm(srv.URL+"/api/v1/query", url.Values{"query": {`sum(go_goroutine_count)`}})
	require.NoError(t, err)
	code, r := decode(t, resp)
	require.Equal(t, http.StatusOK, code, r.Error)
	// At t0+10m the newest samples are i=39 at t0+9m45s: 39*3 + 39*2.
	assert.JSONEq(t, `{"resultType":"vector","result":[{"metric":{},"value":[1700000600,"195"]}]}`, string(r.Data))
}

func TestScalarAndEmptyResults(t *testing.T) {
	srv := newServer(t)
	_, r := get(t, srv, "/api/v1/query", url.Values{"query": {`1+1`}, "time": {"1700000000.5"}})
	assert.JSONEq(t, `{"resultType":"scalar","result":[1700000000.5,"2"]}`, string(r.Data))
	_, r = get(t, srv, "/api/v1/query", url.Values{"query": {`nothing_here`}})
	assert.JSONEq(t, `{"resultType":"vector","result":[]}`, string(r.Data))
}

func TestRangeQuery(t *testing.T) {
	srv := newServer(t)
	code, r := get(t, srv, "/api/v1/query_range", url.Values{
		"query": {`go_goroutine_count{job="db"}`},
		"start": {unix(t0)}, "end": {t0.Add(time.Minute).Format(time.RFC3339)}, "step": {"30s"},
	})
	require.Equal(t, http.StatusOK, code, r.Error)
	assert.JSONEq(t, `{"resultType":"matrix","result":[{"metric":{"__name__":"go_goroutine_count","job":"db","tenant":"b"},
		"values":[[1700000000,"0"],[1700000030,"4"],[1700000060,"8"]]}]}`, string(r.Data))
}

func TestSeriesLabelsAndValues(t *testing.T) {
	srv := newServer(t)
	_, r := get(t, srv, "/api/v1/series", url.Values{"match[]": {`{tenant="b"}`}})
	assert.JSONEq(t, `[{"__name__":"go_goroutine_count","job":"db","tenant":"b"}]`, string(r.Data))
	_, r = get(t, srv, "/api/v1/series", url.Values{"match[]": {`{job="api"}`, `{job="db"}`}})
	assert.JSONEq(t, `[{"__name__":"go_goroutine_count","job":"api","tenant":"a"},{"__name__":"go_goroutine_count","job":"db","tenant":"b"}]`, string(r.Data))

	_, r = get(t, srv, "/api/v1/labels", nil)
	assert.JSONEq(t, `["__name__","job","tenant"]`, string(r.Data))
	_, r = get(t, srv, "/api/v1/label/job/values", nil)
	assert.JSONEq(t, `["api","db"]`, string(r.Data))
	_, r = get(t, srv, "/api/v1/label/job/values", url.Values{"match[]": {`{tenant="a"}`}})
	assert.JSONEq(t, `["api"]`, string(r.Data))
	_, r = get(t, srv, "/api/v1/label/job/values", url.Values{"limit": {"1"}})
	assert.JSONEq(t, `["api"]`, string(r.Data))
	_, r = get(t, srv, "/api/v1/label/nope/values", nil)
	assert.JSONEq(t, `[]`, string(r.Data))
}

func TestErrors(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path    string
		params  url.Values
		code    int
		typ     string
		message string
	}{
		{"/api/v1/query", url.Values{"query": {"sum("}}, 400, "bad_data", `invalid parameter "query": 1:5: parse error`},
		{"/api/v1/query", url.Values{"query": {"up"}, "time": {"yesterday"}}, 400, "bad_data", `invalid parameter "time": cannot parse "yesterday" to a valid timestamp`},
		{"/api/v1/query", url.Values{"query": {"up"}, "timeout": {"soon"}}, 400, "bad_data", `invalid parameter "timeout"`},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "end": {"1"}, "step": {"1"}}, 400, "bad_data", `invalid parameter "start": missing`},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"10"}, "end": {"1"}, "step": {"1"}}, 400, "bad_data", "end timestamp must not be before start time"},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"1"}, "end": {"10"}, "step": {"0"}}, 400, "bad_data", "zero or negative query resolution step widths are not accepted"},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"100000"}, "step": {"1"}}, 400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries"},
		{"/api/v1/query", url.Values{"query": {`go_goroutine_count + on() go_goroutine_count`}}, 422, "execution", "found duplicate series for the match group"},
		{"/api/v1/series", nil, 400, "bad_data", "no match[] parameter provided"},
		{"/api/v1/series", url.Values{"match[]": {"{"}}, 400, "bad_data", `invalid parameter "match[]"`},
		{"/api/v1/labels", url.Values{"limit": {"-1"}}, 400, "bad_data", `invalid parameter "limit"`},
		{"/api/v1/label/a-b/values", nil, 400, "bad_data", `invalid label name: "a-b"`},
		{"/api/v1/nope", nil, 404, "not_found", "unknown API endpoint"},
	} {
		t.Run(tc.path+"?"+tc.params.Encode(), func(t *testing.T) {
			code, r := get(t, srv, tc.path, tc.params)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, "error", r.Status)
			assert.Equal(t, tc.typ, r.ErrorType)
			assert.Contains(t, r.Error, tc.message)
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := newServer(t)
	req, err := http.NewRequest(http.MethodDelete, srv.URL+"/api/v1/query?query=up", http.NoBody)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	code, r := decode(t, resp)
	assert.Equal(t, http.StatusMethodNotAllowed, code)
	assert.Equal(t, "GET, POST", resp.Header.Get("Allow"))
	assert.Contains(t, r.Error, "method DELETE is not allowed")
}

func TestQueryTimeout(t *testing.T) {
	srv := newServer(t)
	code, r := get(t, srv, "/api/v1/query", url.Values{"query": {`count_over_time(go_goroutine_count[1h:1s])`}, "timeout": {"0.000000001"}})
	assert.Equal(t, http.StatusServiceUnavailable, code, r.Error)
	assert.Equal(t, "timeout", r.ErrorType)
}

func TestMaxSamples(t *testing.T) {
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	app := db.Appender(context.Background())
	for i := range 100 {
		_, err := app.Append(0, labels.FromStrings("__name__", "m", "i", strconv.Itoa(i)), t0.UnixMilli(), 1)
		require.NoError(t, err)
	}
	require.NoError(t, app.Commit())
	srv := httptest.NewServer(New(db, Options{Timeout: time.Minute, MaxSamples: 10, SubqueryStep: time.Minute}).Handler())
	defer srv.Close()
	code, r := get(t, srv, "/api/v1/query", url.Values{"query": {"m"}, "time": {unix(t0)}})
	assert.Equal(t, 422, code)
	assert.Contains(t, r.Error, "query processing would load too many samples into memory")
}

func TestBuildInfo(t *testing.T) {
	srv := newServer(t)
	_, r := get(t, srv, "/api/v1/status/buildinfo", nil)
	var bi map[string]string
	require.NoError(t, json.Unmarshal(r.Data, &bi))
	assert.Equal(t, "otelcol-goruntime test", bi["distribution"])
	assert.True(t, strings.HasPrefix(bi["goVersion"], "go"))
	for _, k := range []string{"version", "revision", "branch", "buildUser", "buildDate"} {
		assert.Contains(t, bi, k)
	}
}

func TestPrometheusRelease(t *testing.T) {
	assert.Equal(t, "3.15.0", prometheusRelease("v0.315.0"))
	assert.Equal(t, "3.4.2", prometheusRelease("v0.304.2"))
	assert.Equal(t, "v0.55.0", prometheusRelease("v0.55.0"), "pre-3.0 versions are left as they are")
	assert.Equal(t, "garbage", prometheusRelease("garbage"))
}
