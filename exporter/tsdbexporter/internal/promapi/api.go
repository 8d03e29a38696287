// Package promapi serves the read side of the Prometheus HTTP API
// (/api/v1/query, query_range, series, labels, label values, buildinfo) over
// any Prometheus storage.Queryable, with Prometheus' own PromQL engine, JSON
// shapes, error types and status codes, so that Grafana's Prometheus data
// source and promtool work against it unchanged.
package promapi // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/promapi"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// maxPointsPerSeries is Prometheus' limit on the points of one range query
// series.
const maxPointsPerSeries = 11000

// Options configures the query engine behind the API.
type Options struct {
	// Timeout bounds every query; a request's own "timeout" can only lower it.
	Timeout time.Duration
	// MaxSamples bounds the samples one query may hold in memory at once.
	MaxSamples int
	// LookbackDelta is how far back an instant selector looks for a sample.
	LookbackDelta time.Duration
	// SubqueryStep is the step of a subquery that names none.
	SubqueryStep time.Duration
	// Version is reported by the buildinfo endpoint next to the engine's.
	Version string
	Logger  *slog.Logger

	// Tenant, when set, turns on tenant isolation: it returns the tenant
	// of a request (an error answers 401), and every selector is restricted
	// to TenantLabel="<tenant>".
	Tenant      func(*http.Request) (string, error)
	TenantLabel string
	// Metadata returns the metric metadata of a tenant ("" for all).
	Metadata func(tenant string) map[string][]metadata.Metadata
	// Snapshot, when set, serves POST /api/v1/admin/tsdb/snapshot.
	Snapshot func() (string, error)
}

// API answers Prometheus HTTP API read requests.
type API struct {
	engine    *promql.Engine
	queryable storage.Queryable
	parser    parser.Parser
	opts      Options
	now       func() time.Time
}

// New returns an API over q.
func New(q storage.Queryable, opts Options) *API {
	p := parser.NewParser(parser.Options{})
	step := opts.SubqueryStep.Milliseconds()
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:                   opts.Logger,
		MaxSamples:               opts.MaxSamples,
		Timeout:                  opts.Timeout,
		LookbackDelta:            opts.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return step },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   p,
	})
	return &API{engine: engine, queryable: q, parser: p, opts: opts, now: time.Now}
}

// Handler returns the HTTP handler of every endpoint under /api/v1/.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/query", a.endpoint(a.query))
	mux.Handle("/api/v1/query_range", a.endpoint(a.queryRange))
	mux.Handle("/api/v1/series", a.endpoint(a.series))
	mux.Handle("/api/v1/labels", a.endpoint(a.labelNames))
	mux.Handle("/api/v1/label/{name}/values", a.endpoint(a.labelValues))
	mux.Handle("/api/v1/metadata", a.endpoint(a.metadata))
	mux.Handle("/api/v1/status/buildinfo", a.public(a.buildInfo))
	mux.Handle("/api/v1/admin/tsdb/snapshot", a.public(a.snapshot))
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, &apiError{errNotFound, errors.New("unknown API endpoint")})
	})
	return mux
}

// request is one API request with the storage it may read.
type request struct {
	*http.Request
	queryable storage.Queryable
	// tenant is "" when tenancy is off.
	tenant string
}

type endpointFunc func(r *request) (data any, annos annotations.Annotations, err *apiError)

// endpoint serves a data endpoint: with tenancy on, only for a request that
// names its tenant, and only over that tenant's series.
func (a *API) endpoint(f endpointFunc) http.Handler {
	return a.handler(f, true)
}

// public serves an endpoint that reads no series.
func (a *API) public(f endpointFunc) http.Handler {
	return a.handler(f, false)
}

// handler accepts GET and form-encoded POST, as Prometheus does.
func (a *API) handler(f endpointFunc, perTenant bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writeJSON(w, http.StatusMethodNotAllowed, response{
				Status: "error", ErrorType: errBadData,
				Error: fmt.Sprintf("method %s is not allowed, use GET or POST", r.Method),
			})
			return
		}
		if err := r.ParseForm(); err != nil {
			writeError(w, badData(fmt.Errorf("error parsing form values: %w", err)))
			return
		}
		req := &request{Request: r, queryable: a.queryable}
		if perTenant && a.opts.Tenant != nil {
			tenant, err := a.opts.Tenant(r)
			if err != nil {
				writeJSON(w, http.StatusUnauthorized, response{Status: "error", ErrorType: errBadData, Error: err.Error()})
				return
			}
			req.tenant = tenant
			req.queryable = newTenantQueryable(a.queryable, a.opts.TenantLabel, tenant)
		}
		data, annos, apiErr := f(req)
		if apiErr != nil {
			if apiErr.typ == errInternal && a.opts.Logger != nil {
				a.opts.Logger.Error("query API request failed", "path", r.URL.Path, "err", apiErr.err)
			}
			writeError(w, apiErr)
			return
		}
		writeData(w, data, annos)
	})
}

type queryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     parser.Value     `json:"result"`
}

// withTimeout applies the request's "timeout" parameter.
func withTimeout(r *request) (context.Context, context.CancelFunc, *apiError) {
	v := r.FormValue("timeout")
	if v == "" {
		ctx, cancel := context.WithCancel(r.Context())
		return ctx, cancel, nil
	}
	d, err := parseDuration(v)
	if err != nil {
		return nil, nil, badData(invalidParam("timeout", err))
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	return ctx, cancel, nil
}

func (a *API) query(r *request) (any, annotations.Annotations, *apiError) {
	ts, err := timeParam(r, "time", a.now())
	if err != nil {
		return nil, nil, badData(err)
	}
	ctx, cancel, apiErr := withTimeout(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer cancel()
	qry, err := a.engine.NewInstantQuery(ctx, r.queryable, nil, r.FormValue("query"), ts)
	if err != nil {
		return nil, nil, badData(invalidParam("query", err))
	}
	return a.exec(ctx, qry)
}

func (a *API) queryRange(r *request) (any, annotations.Annotations, *apiError) {
	start, err := requiredTime(r, "start")
	if err != nil {
		return nil, nil, badData(err)
	}
	end, err := requiredTime(r, "end")
	if err != nil {
		return nil, nil, badData(err)
	}
	if end.Before(start) {
		return nil, nil, badData(invalidParam("end", errors.New("end timestamp must not be before start time")))
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return nil, nil, badData(invalidParam("step", err))
	}
	if step <= 0 {
		return nil, nil, badData(invalidParam("step", errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer")))
	}
	if end.Sub(start)/step > maxPointsPerSeries {
		return nil, nil, badData(errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))
	}
	ctx, cancel, apiErr := withTimeout(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer cancel()
	qry, err := a.engine.NewRangeQuery(ctx, r.queryable, nil, r.FormValue("query"), start, end, step)
	if err != nil {
		return nil, nil, badData(invalidParam("query", err))
	}
	return a.exec(ctx, qry)
}

func requiredTime(r *request, name string) (time.Time, error) {
	if r.FormValue(name) == "" {
		return time.Time{}, invalidParam(name, errors.New("missing"))
	}
	return timeParam(r, name, time.Time{})
}

func (*API) exec(ctx context.Context, qry promql.Query) (any, annotations.Annotations, *apiError) {
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Warnings, queryError(res.Err)
	}
	// Empty results are [] in the Prometheus API, never null.
	v := res.Value
	switch t := v.(type) {
	case promql.Vector:
		if t == nil {
			v = promql.Vector{}
		}
	case promql.Matrix:
		if t == nil {
			v = promql.Matrix{}
		}
	}
	return queryData{ResultType: v.Type(), Result: v}, res.Warnings, nil
}

// selection holds the parameters shared by the metadata endpoints.
type selection struct {
	start, end  time.Time
	matcherSets [][]*labels.Matcher
	limit       int
}

func (a *API) parseSelection(r *request) (selection, *apiError) {
	var s selection
	var err error
	if s.start, err = timeParam(r, "start", minTime); err != nil {
		return s, badData(err)
	}
	if s.end, err = timeParam(r, "end", maxTime); err != nil {
		return s, badData(err)
	}
	if s.end.Before(s.start) {
		return s, badData(invalidParam("end", errors.New("end timestamp must not be before start time")))
	}
	if s.matcherSets, err = a.parser.ParseMetricSelectors(r.Form["match[]"]); err != nil {
		return s, badData(invalidParam("match[]", err))
	}
	if s.limit, err = limitParam(r.Request); err != nil {
		return s, badData(err)
	}
	return s, nil
}

// openSelection parses the selection parameters and opens a querier over
// their time range; the caller closes it.
func (a *API) openSelection(r *request) (selection, storage.Querier, *apiError) {
	s, apiErr := a.parseSelection(r)
	if apiErr != nil {
		return s, nil, apiErr
	}
	q, err := r.queryable.Querier(timestampMillis(s.start), timestampMillis(s.end))
	if err != nil {
		return s, nil, &apiError{errInternal, err}
	}
	return s, q, nil
}

func timestampMillis(t time.Time) int64 {
	return t.Unix()*1000 + int64(t.Nanosecond())/int64(time.Millisecond)
}

func (a *API) series(r *request) (any, annotations.Annotations, *apiError) {
	if len(r.Form["match[]"]) == 0 {
		return nil, nil, badData(errors.New("no match[] parameter provided"))
	}
	s, q, apiErr := a.openSelection(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer func() { _ = q.Close() }()
	hints := &storage.SelectHints{Start: timestampMillis(s.start), End: timestampMillis(s.end), Func: "series", Limit: s.limit}
	sets := make([]storage.SeriesSet, 0, len(s.matcherSets))
	for _, ms := range s.matcherSets {
		sets = append(sets, q.Select(r.Context(), len(s.matcherSets) > 1, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
	out := []labels.Labels{}
	for set.Next() {
		if s.limit > 0 && len(out) >= s.limit {
			break
		}
		out = append(out, set.At().Labels())
	}
	if err := set.Err(); err != nil {
		return nil, set.Warnings(), queryError(err)
	}
	return out, set.Warnings(), nil
}

func (a *API) labelNames(r *request) (any, annotations.Annotations, *apiError) {
	return a.labelSet(r, func(ctx context.Context, q storage.Querier, hints *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(ctx, hints, ms...)
	})
}

func (a *API) labelValues(r *request) (any, annotations.Annotations, *apiError) {
	name := r.PathValue("name")
	if !model.LegacyValidation.IsValidLabelName(name) && name != model.MetricNameLabel {
		return nil, nil, badData(fmt.Errorf("invalid label name: %q", name))
	}
	return a.labelSet(r, func(ctx context.Context, q storage.Querier, hints *storage.LabelHints, ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(ctx, name, hints, ms...)
	})
}

type labelLookup func(context.Context, storage.Querier, *storage.LabelHints, []*labels.Matcher) ([]string, annotations.Annotations, error)

// labelSet runs lookup once per match[] set (or once with none) and returns
// the sorted union.
func (a *API) labelSet(r *request, lookup labelLookup) (any, annotations.Annotations, *apiError) {
	s, q, apiErr := a.openSelection(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer func() { _ = q.Close() }()
	hints := &storage.LabelHints{Limit: s.limit}
	sets := s.matcherSets
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var annos annotations.Annotations
	seen := map[string]struct{}{}
	for _, ms := range sets {
		vals, w, err := lookup(r.Context(), q, hints, ms)
		annos.Merge(w)
		if err != nil {
			return nil, annos, queryError(err)
		}
		for _, v := range vals {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	if s.limit > 0 && len(out) > s.limit {
		out = out[:s.limit]
	}
	return out, annos, nil
}

func (a *API) metadata(r *request) (any, annotations.Annotations, *apiError) {
	limit, err := limitParam(r.Request)
	if err != nil {
		return nil, nil, badData(err)
	}
	perMetric := 0
	if v := r.FormValue("limit_per_metric"); v != "" {
		if perMetric, err = strconv.Atoi(v); err != nil || perMetric < 0 {
			return nil, nil, badData(invalidParam("limit_per_metric", fmt.Errorf("%q is not a non-negative integer", v)))
		}
	}
	out := map[string][]metadata.Metadata{}
	if a.opts.Metadata == nil {
		return out, nil, nil
	}
	all := a.opts.Metadata(r.tenant)
	names := make([]string, 0, len(all))
	for name := range all {
		if m := r.FormValue("metric"); m == "" || m == name {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if limit > 0 && len(out) >= limit {
			break
		}
		mds := all[name]
		if perMetric > 0 && len(mds) > perMetric {
			mds = mds[:perMetric]
		}
		out[name] = mds
	}
	return out, nil, nil
}

func (a *API) snapshot(r *request) (any, annotations.Annotations, *apiError) {
	if a.opts.Snapshot == nil {
		return nil, nil, &apiError{errUnavailable, errors.New("admin APIs disabled")}
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return nil, nil, badData(errors.New("snapshot takes POST"))
	}
	path, err := a.opts.Snapshot()
	if err != nil {
		return nil, nil, &apiError{errInternal, err}
	}
	return map[string]string{"name": filepath.Base(path)}, nil, nil
}

// buildInfoData has the fields of Prometheus' buildinfo answer. Version is
// the version of the Prometheus query engine built in, which is what clients
// use it for; Distribution names this product and its own version.
type buildInfoData struct {
	Version      string `json:"version"`
	Revision     string `json:"revision"`
	Branch       string `json:"branch"`
	BuildUser    string `json:"buildUser"`
	BuildDate    string `json:"buildDate"`
	GoVersion    string `json:"goVersion"`
	Distribution string `json:"distribution"`
}

func (a *API) buildInfo(*request) (any, annotations.Annotations, *apiError) {
	return buildInfoData{
		Version:      engineVersion(),
		Revision:     "unknown",
		Branch:       "unknown",
		BuildUser:    "unknown",
		BuildDate:    "unknown",
		GoVersion:    runtime.Version(),
		Distribution: "otelcol-goruntime " + a.opts.Version,
	}, nil, nil
}

// engineVersion turns the version of the Prometheus module built in
// (v0.315.0) into the Prometheus release it is (3.15.0).
func engineVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/prometheus/prometheus" {
			return prometheusRelease(d.Version)
		}
	}
	return "unknown"
}

func prometheusRelease(moduleVersion string) string {
	var minor, patch int
	if _, err := fmt.Sscanf(strings.TrimPrefix(moduleVersion, "v0."), "%d.%d", &minor, &patch); err != nil || minor < 300 {
		return moduleVersion
	}
	return fmt.Sprintf("%d.%d.%d", minor/100, minor%100, patch)
}
