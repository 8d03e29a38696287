package promapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
)

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1700000000", "1700000000.123", "2023-11-14T22:13:20Z", "-1e300", "NaN", "", minTimeFormatted, maxTimeFormatted} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseTime(s); err != nil && !strings.Contains(err.Error(), "cannot parse") {
			t.Errorf("parseTime(%q): error %q does not say what it could not parse", s, err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"15s", "1.5", "1h30m", "1e30", "-5m", "", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseDuration(s); err != nil && !strings.Contains(err.Error(), "cannot parse") {
			t.Errorf("parseDuration(%q): error %q does not say what it could not parse", s, err)
		}
	})
}

// FuzzEndpoints sends arbitrary parameters to every endpoint: each answer
// must be well-formed JSON with a Prometheus status, and never a 500.
func FuzzEndpoints(f *testing.F) {
	db, err := tsdb.Open(f.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	app := db.Appender(context.Background())
	for i := range 20 {
		_, _ = app.Append(0, labels.FromStrings("__name__", "m", "job", "a"), t0.Add(time.Duration(i)*15*time.Second).UnixMilli(), float64(i))
	}
	if err := app.Commit(); err != nil {
		f.Fatal(err)
	}
	h := New(db, Options{Timeout: time.Second, MaxSamples: 100_000, LookbackDelta: 5 * time.Minute, SubqueryStep: time.Minute}).Handler()

	f.Add("/api/v1/query", "rate(m[1m])", "1700000100", "", "", "", "")
	f.Add("/api/v1/query_range", "sum by (job) (m)", "", "1700000000", "1700000300", "15s", "")
	f.Add("/api/v1/series", "", "", "", "", "", `{job=~"a.*"}`)
	f.Add("/api/v1/labels", "", "", "1700000000", "", "", "m")
	f.Add("/api/v1/label/job/values", "", "", "", "", "", `{__name__="m"}`)
	f.Fuzz(func(t *testing.T, path, q, ts, start, end, step, match string) {
		if u, err := url.Parse(path); err != nil || u.Path != path || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#%") {
			return // not a request path a client could send
		}
		form := url.Values{"query": {q}, "time": {ts}, "start": {start}, "end": {end}, "step": {step}, "match[]": {match}}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %v: status %d: %s", path, form, rec.Code, rec.Body)
		}
		if !strings.HasPrefix(path, "/api/v1/") || rec.Code/100 == 3 {
			return // the mux answers other paths, and redirects unclean ones, itself
		}
		var r response
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("%s %v: body is not JSON: %v: %q", path, form, err, rec.Body)
		}
		if (r.Status == "success") != (rec.Code == http.StatusOK) || (r.Status == "error" && r.Error == "") {
			t.Fatalf("%s %v: status %d with body %s", path, form, rec.Code, rec.Body)
		}
	})
}
