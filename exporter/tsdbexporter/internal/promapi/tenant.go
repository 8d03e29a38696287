package promapi

import (
	"context"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// tenantQueryable restricts every selector to one tenant, as
// prom-label-proxy does, but below PromQL: whatever a query names (another
// tenant's label, a regex, {__name__=~".+"}), the storage only ever sees it
// together with tenant="<the request's tenant>".
type tenantQueryable struct {
	storage.Queryable
	matcher *labels.Matcher
}

func newTenantQueryable(q storage.Queryable, label, tenant string) tenantQueryable {
	return tenantQueryable{Queryable: q, matcher: labels.MustNewMatcher(labels.MatchEqual, label, tenant)}
}

func (t tenantQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := t.Queryable.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return tenantQuerier{Querier: q, matcher: t.matcher}, nil
}

type tenantQuerier struct {
	storage.Querier
	matcher *labels.Matcher
}

// with returns ms and the tenant matcher, never changing ms' backing array.
func (t tenantQuerier) with(ms []*labels.Matcher) []*labels.Matcher {
	return append(slices.Clip(ms), t.matcher)
}

func (t tenantQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return t.Querier.Select(ctx, sortSeries, hints, t.with(ms)...)
}

func (t tenantQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return t.Querier.LabelValues(ctx, name, hints, t.with(ms)...)
}

func (t tenantQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return t.Querier.LabelNames(ctx, hints, t.with(ms)...)
}
