package promapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
)

// dashboardDB holds 1000 series of 24 h of 15 s samples (5.76 M samples):
// 10 jobs of 100 instances of a counter. It is built once per process.
var dashboardDB = struct {
	once sync.Once
	db   *tsdb.DB
	end  time.Time
}{}

func dashboardData(b *testing.B) (*tsdb.DB, time.Time) {
	dashboardDB.once.Do(func() {
		dir, err := os.MkdirTemp("", "promapi-bench")
		require.NoError(b, err)
		db, err := tsdb.Open(dir, nil, nil, tsdb.DefaultOptions(), nil)
		require.NoError(b, err)
		end := time.Now().Truncate(time.Minute)
		start := end.Add(-24 * time.Hour)
		series := make([]labels.Labels, 1000)
		for i := range series {
			series[i] = labels.FromStrings("__name__", "http_requests_total", "job", "job-"+strconv.Itoa(i%10), "instance", "i-"+strconv.Itoa(i))
		}
		refs := make([]storage.SeriesRef, len(series))
		for ts := start; !ts.After(end); ts = ts.Add(15 * time.Second) {
			app := db.Appender(context.Background())
			for i, ls := range series {
				ref, err := app.Append(refs[i], ls, ts.UnixMilli(), float64(ts.Sub(start)/time.Second)*float64(i%7+1))
				require.NoError(b, err)
				refs[i] = ref
			}
			require.NoError(b, app.Commit())
		}
		dashboardDB.db, dashboardDB.end = db, end
	})
	return dashboardDB.db, dashboardDB.end
}

// BenchmarkDashboardQueries times range queries a dashboard panel sends
// over the last 24 h at a 60 s step (1440 points per series) through the
// HTTP handler, JSON encoding included.
func BenchmarkDashboardQueries(b *testing.B) {
	db, end := dashboardData(b)
	h := New(db, Options{Timeout: time.Minute, MaxSamples: 50_000_000, LookbackDelta: 5 * time.Minute, SubqueryStep: time.Minute}).Handler()
	for _, q := range []struct{ name, expr string }{
		{"sum_rate", `sum(rate(http_requests_total[5m]))`},
		{"sum_by_job_rate", `sum by (job) (rate(http_requests_total[5m]))`},
		{"topk_rate", `topk(5, rate(http_requests_total[5m]))`},
		{"one_series", `http_requests_total{instance="i-42"}`},
	} {
		b.Run(q.name, func(b *testing.B) {
			form := url.Values{
				"query": {q.expr},
				"start": {strconv.FormatInt(end.Add(-24*time.Hour).Unix(), 10)},
				"end":   {strconv.FormatInt(end.Unix(), 10)},
				"step":  {"60"},
			}
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/query_range?"+form.Encode(), http.NoBody)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
