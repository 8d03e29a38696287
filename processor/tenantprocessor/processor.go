package tenantprocessor // import "github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor"

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/identity"
	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/limits"
	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/processor/tenantprocessor/internal/tenancy"
)

// otherMetric names, in telemetry, a metric the tenant tracks no series of:
// hostile metric names never become telemetry attributes.
const otherMetric = "_other"

type tenantProcessor struct {
	cfg       *Config
	logger    *zap.Logger
	next      consumer.Metrics
	resolver  *tenancy.Resolver
	tracker   *limits.Tracker
	telemetry *metadata.TelemetryBuilder
	namespace []label
	now       func() time.Time

	logMu   sync.Mutex
	lastLog map[string]time.Time

	stop chan struct{}
	done chan struct{}
}

type label struct{ key, value string }

func newTenantProcessor(cfg *Config, set processor.Settings, tracker *limits.Tracker, next consumer.Metrics) (*tenantProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &tenantProcessor{
		cfg:       cfg,
		logger:    set.Logger,
		next:      next,
		resolver:  cfg.resolver(),
		tracker:   tracker,
		telemetry: tb,
		now:       time.Now,
		lastLog:   map[string]time.Time{},
	}
	for k, v := range cfg.Namespace.Attributes {
		p.namespace = append(p.namespace, label{k, v})
	}
	sort.Slice(p.namespace, func(i, j int) bool { return p.namespace[i].key < p.namespace[j].key })
	err = errors.Join(
		tb.RegisterTenantSeriesActiveCallback(func(_ context.Context, o metric.Int64Observer) error {
			tracker.Each(func(tenant string, active, _ int) {
				o.Observe(int64(active), metric.WithAttributes(attribute.String("tenant", tenant)))
			})
			return nil
		}),
		tb.RegisterTenantSeriesLimitCallback(func(_ context.Context, o metric.Int64Observer) error {
			tracker.Each(func(tenant string, _, limit int) {
				o.Observe(int64(limit), metric.WithAttributes(attribute.String("tenant", tenant)))
			})
			return nil
		}),
	)
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return p, nil
}

func (*tenantProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// Start runs the sweeper that frees the slots of idle series.
func (p *tenantProcessor) Start(context.Context, component.Host) error {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	period := min(max(p.cfg.Limits.SeriesIdleTimeout/2, time.Second), time.Minute)
	go func() {
		defer close(p.done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.tracker.Sweep(p.now())
			}
		}
	}()
	return nil
}

// Shutdown stops the sweeper; the tracked series stay in the tracker for a
// processor of the same ID after a config reload.
func (p *tenantProcessor) Shutdown(context.Context) error {
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
	p.telemetry.Shutdown()
	return nil
}

// dropKey groups dropped points for telemetry and logs.
type dropKey struct {
	tenant, metric string
	reason         limits.Reason
}

// batchStats collects what one ConsumeMetrics call did.
type batchStats struct {
	accepted map[string]int64
	dropped  map[dropKey]int64
	// refused holds an example of a refused tenant ID for the log.
	refused string
}

func (s *batchStats) drop(k dropKey, n int) {
	if n == 0 {
		return
	}
	if s.dropped == nil {
		s.dropped = map[dropKey]int64{}
	}
	s.dropped[k] += int64(n)
}

func (p *tenantProcessor) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	now := p.now()
	info := client.FromContext(ctx)
	stats := batchStats{accepted: map[string]int64{}}
	md.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		return !p.processResource(info.Metadata, rm, now, &stats)
	})
	p.report(ctx, &stats, now)
	if md.ResourceMetrics().Len() == 0 {
		return nil
	}
	return p.forward(ctx, info, md)
}

// processResource puts rm in its tenant and enforces the limits on its
// points; it returns false when nothing of rm is left to pass on.
func (p *tenantProcessor) processResource(md client.Metadata, rm pmetric.ResourceMetrics, now time.Time, stats *batchStats) bool {
	id, outcome := p.resolver.Resolve(md, rm.Resource())
	switch outcome {
	case tenancy.Missing:
		stats.drop(dropKey{"", otherMetric, limits.MissingTenant}, pointCount(rm))
		return false
	case tenancy.Invalid:
		stats.drop(dropKey{"", otherMetric, limits.InvalidTenant}, pointCount(rm))
		stats.refused = id
		return false
	}
	tenant, reason := p.tracker.Tenant(id)
	if reason != limits.OK {
		stats.drop(dropKey{id, otherMetric, reason}, pointCount(rm))
		return false
	}
	rm.Resource().Attributes().PutStr(p.cfg.AttributeKey, id)
	for !tenant.Lock() {
		// The sweeper forgot the tenant meanwhile; look it up anew.
		if tenant, reason = p.tracker.Tenant(id); reason != limits.OK {
			stats.drop(dropKey{id, otherMetric, reason}, pointCount(rm))
			return false
		}
	}
	e := enforcer{
		p: p, tenant: tenant, now: now, stats: stats,
		resource: identity.Attributes(rm.Resource().Attributes()), prefix: p.cfg.Tenants[id].MetricPrefix,
	}
	sms := rm.ScopeMetrics()
	sms.RemoveIf(func(sm pmetric.ScopeMetrics) bool {
		sm.Metrics().RemoveIf(e.metric)
		return sm.Metrics().Len() == 0
	})
	tenant.Unlock()
	return sms.Len() > 0
}

// enforcer applies one tenant's limits and labels to the metrics of one
// resource; its tenant is locked while it runs.
type enforcer struct {
	p        *tenantProcessor
	tenant   *limits.Tenant
	now      time.Time
	stats    *batchStats
	resource uint64
	prefix   string
	// per metric
	name     uint64
	ref      limits.Metric
	accepted int
	dropped  [limits.NumReasons]int
}

// metric filters the points of m; it returns true when none is left.
func (e *enforcer) metric(m pmetric.Metric) bool {
	e.name = identity.String(m.Name())
	e.ref = e.tenant.Metric(m.Name())
	e.accepted, e.dropped = 0, [limits.NumReasons]int{}
	left := 0
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		left = filterPoints(m.Gauge().DataPoints(), e.keep)
	case pmetric.MetricTypeSum:
		left = filterPoints(m.Sum().DataPoints(), e.keep)
	case pmetric.MetricTypeHistogram:
		left = filterPoints(m.Histogram().DataPoints(), e.keep)
	case pmetric.MetricTypeExponentialHistogram:
		left = filterPoints(m.ExponentialHistogram().DataPoints(), e.keep)
	case pmetric.MetricTypeSummary:
		left = filterPoints(m.Summary().DataPoints(), e.keep)
	}
	metricName := otherMetric
	if e.ref.Tracked() {
		metricName = m.Name()
	}
	for r, n := range e.dropped {
		e.stats.drop(dropKey{e.tenant.Name(), metricName, limits.Reason(r)}, n)
	}
	e.stats.accepted[e.tenant.Name()] += int64(e.accepted)
	if e.prefix != "" && left > 0 {
		m.SetName(e.prefix + m.Name())
	}
	return left == 0
}

// keep decides one data point: admitted points get the namespace labels;
// refused ones are dropped, or kept and counted in dry-run mode.
func (e *enforcer) keep(attrs pcommon.Map) bool {
	h := identity.Stream(e.resource, e.name, identity.Attributes(attrs))
	r := e.tenant.Admit(h, &e.ref, attrs, e.now)
	if r != limits.OK {
		e.dropped[r]++
		if !e.p.cfg.DryRun {
			return false
		}
	} else {
		e.accepted++
	}
	for _, l := range e.p.namespace {
		attrs.PutStr(l.key, l.value)
	}
	return true
}

type point interface{ Attributes() pcommon.Map }

type pointSlice[P point] interface {
	RemoveIf(func(P) bool)
	Len() int
}

// filterPoints keeps the points keep accepts and returns how many are left.
func filterPoints[P point, S pointSlice[P]](s S, keep func(pcommon.Map) bool) int {
	s.RemoveIf(func(dp P) bool { return !keep(dp.Attributes()) })
	return s.Len()
}

func pointCount(rm pmetric.ResourceMetrics) int {
	n := 0
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			n += dataPointCount(ms.At(j))
		}
	}
	return n
}

func dataPointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// report records telemetry for one batch and logs drops, at most once per
// log interval per tenant.
func (p *tenantProcessor) report(ctx context.Context, s *batchStats, now time.Time) {
	for tenant, n := range s.accepted {
		if n > 0 {
			p.telemetry.TenantPointsAccepted.Add(ctx, n, metric.WithAttributes(attribute.String("tenant", tenant)))
		}
	}
	if len(s.dropped) == 0 {
		return
	}
	counter := p.telemetry.TenantPointsDropped
	if p.cfg.DryRun {
		counter = p.telemetry.TenantPointsWouldDrop
	}
	byTenant := map[string][]zap.Field{}
	for k, n := range s.dropped {
		counter.Add(ctx, n, metric.WithAttributes(
			attribute.String("tenant", k.tenant),
			attribute.String("metric", k.metric),
			attribute.String("reason", k.reason.String())))
		byTenant[k.tenant] = append(byTenant[k.tenant], zap.Int64(k.reason.String()+"."+k.metric, n))
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	for tenant, fields := range byTenant {
		if last, ok := p.lastLog[tenant]; ok && now.Sub(last) < p.cfg.LogInterval {
			continue
		}
		p.lastLog[tenant] = now
		msg := "Dropping data points of a tenant over its limits"
		if p.cfg.DryRun {
			msg = "Dry run: data points over the tenant's limits would be dropped"
		}
		fields = append(fields, zap.String("tenant", tenant))
		if tenant == "" {
			msg = "Dropping data points that belong to no valid tenant"
			if s.refused != "" {
				fields = append(fields, zap.String("refused_tenant", truncate(s.refused, 200)))
			}
		}
		p.logger.Warn(msg, fields...)
	}
	for tenant, last := range p.lastLog {
		if now.Sub(last) > 2*p.cfg.LogInterval {
			delete(p.lastLog, tenant)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// forward passes md on, one request per tenant, with the tenant in the
// context's client metadata.
func (p *tenantProcessor) forward(ctx context.Context, info client.Info, md pmetric.Metrics) error {
	rms := md.ResourceMetrics()
	first := tenantOf(rms.At(0), p.cfg.AttributeKey)
	single := true
	for i := 1; i < rms.Len(); i++ {
		if tenantOf(rms.At(i), p.cfg.AttributeKey) != first {
			single = false
			break
		}
	}
	if single {
		return p.next.ConsumeMetrics(withTenant(ctx, info, p.cfg.MetadataKey, first), md)
	}
	var order []string
	groups := map[string]pmetric.Metrics{}
	for i := range rms.Len() {
		t := tenantOf(rms.At(i), p.cfg.AttributeKey)
		g, ok := groups[t]
		if !ok {
			g = pmetric.NewMetrics()
			groups[t] = g
			order = append(order, t)
		}
		rms.At(i).MoveTo(g.ResourceMetrics().AppendEmpty())
	}
	var errs []error
	for _, t := range order {
		errs = append(errs, p.next.ConsumeMetrics(withTenant(ctx, info, p.cfg.MetadataKey, t), groups[t]))
	}
	return errors.Join(errs...)
}

func tenantOf(rm pmetric.ResourceMetrics, key string) string {
	v, _ := rm.Resource().Attributes().Get(key)
	return v.Str()
}

// withTenant returns ctx with the tenant set under key in the client
// metadata, keeping every other metadata entry.
func withTenant(ctx context.Context, info client.Info, key, tenant string) context.Context {
	md := map[string][]string{}
	for k := range info.Metadata.Keys() {
		md[k] = info.Metadata.Get(k)
	}
	md[key] = []string{tenant}
	info.Metadata = client.NewMetadata(md)
	return client.NewContext(ctx, info)
}
