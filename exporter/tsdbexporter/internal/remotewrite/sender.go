package remotewrite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Options configure a Sender.
type Options struct {
	Client   *http.Client
	Endpoint string
	// TenantLabel is the label that carries the tenant; its value goes in
	// TenantHeader, one request per tenant.
	TenantLabel  string
	TenantHeader string
	// Shards is how many requests one tenant's batch is split into, by
	// series, and sent at once; a series is always in the same shard, so
	// its samples arrive in order.
	Shards int
	// NativeHistograms sends native histograms; without it they are left
	// out and counted (for endpoints that do not take them).
	NativeHistograms bool
	Settings         prometheusremotewrite.Settings
	UserAgent        string
	// StaleAfter is how far behind the newest sample of any series a
	// series' last sample may fall before it is ended with a staleness
	// marker (never less than two of its own intervals); 0 sends no
	// markers.
	StaleAfter time.Duration
	// MaxTrackedSeries bounds the series remembered for staleness.
	MaxTrackedSeries int
}

// Result counts what one Send did.
type Result struct {
	// Series and Samples were delivered (histograms count as samples).
	Series, Samples int
	// DroppedHistograms were left out because NativeHistograms is off.
	DroppedHistograms int
	// ConversionErrors counts metrics the OTLP translation refused.
	ConversionErrors int
	// Newest is the newest delivered sample's timestamp in milliseconds.
	Newest int64
	// StalenessMarkers were delivered for series that ended.
	StalenessMarkers int
}

// Sender writes batches to one remote-write endpoint.
type Sender struct {
	opts  Options
	stale *staleness
}

// New returns a Sender.
func New(opts Options) *Sender {
	if opts.Shards < 1 {
		opts.Shards = 1
	}
	s := &Sender{opts: opts}
	if opts.StaleAfter > 0 {
		if opts.MaxTrackedSeries <= 0 {
			opts.MaxTrackedSeries = 1_000_000
		}
		s.stale = newStaleness(opts.StaleAfter.Milliseconds(), opts.MaxTrackedSeries)
	}
	return s
}

// Send converts md and delivers it. A nil error means every request was
// accepted. Otherwise the error says whether retrying can help: a
// permanent error for requests the endpoint refused (4xx other than 429)
// and for metrics the translation refused; a throttle error carrying the
// endpoint's Retry-After for 429 and 503 with Retry-After; a plain
// (retryable) error for 5xx and transport failures. A retry resends the
// whole batch; endpoints accept a sample sent twice with the same value.
func (s *Sender) Send(ctx context.Context, md pmetric.Metrics) (Result, error) {
	col := newCollector(s.opts.TenantLabel, s.opts.NativeHistograms)
	conv := prometheusremotewrite.NewPrometheusConverter(col)
	_, convErr := conv.FromMetrics(ctx, md, s.opts.Settings)
	res := Result{DroppedHistograms: col.dropped}
	if convErr != nil {
		if j, ok := convErr.(interface{ Unwrap() []error }); ok {
			res.ConversionErrors = len(j.Unwrap())
		} else {
			res.ConversionErrors = 1
		}
	}
	tenants, byTenant := col.tenants()
	var markers map[string][]*series
	if s.stale != nil {
		// The batch's own series are not ending: record them first.
		for _, tenant := range tenants {
			s.stale.observe(tenant, byTenant[tenant])
		}
		markers = s.stale.ended()
		for tenant := range markers {
			if _, ok := byTenant[tenant]; !ok {
				tenants = append(tenants, tenant)
			}
		}
	}
	type job struct {
		tenant string
		series []*series
		marks  []*series
	}
	var jobs []job
	for _, tenant := range tenants {
		shards := make([][]*series, s.opts.Shards)
		for _, sr := range byTenant[tenant] {
			i := sr.hash % uint64(s.opts.Shards)
			shards[i] = append(shards[i], sr)
		}
		for _, sh := range shards {
			if len(sh) > 0 {
				jobs = append(jobs, job{tenant: tenant, series: sh})
			}
		}
		if m := markers[tenant]; len(m) > 0 {
			// Markers go in their own request: a failed one is sent again
			// with the next batch, and delays no data.
			jobs = append(jobs, job{tenant: tenant, marks: m})
		}
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = s.post(ctx, j.tenant, append(j.series, j.marks...)) })
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			continue
		}
		if len(j.marks) > 0 {
			s.stale.forget(j.marks)
			res.StalenessMarkers += len(j.marks)
			continue
		}
		res.Series += len(j.series)
		for _, sr := range j.series {
			res.Samples += len(sr.samples) + len(sr.histograms)
			if n := len(sr.samples); n > 0 {
				res.Newest = max(res.Newest, sr.samples[n-1].Timestamp)
			}
			if n := len(sr.histograms); n > 0 {
				res.Newest = max(res.Newest, sr.histograms[n-1].Timestamp)
			}
		}
	}
	return res, classify(append(errs, permanentIf(convErr)))
}

func permanentIf(err error) error {
	if err == nil {
		return nil
	}
	return consumererror.NewPermanent(fmt.Errorf("OTLP translation: %w", err))
}

// classify joins the errors of one batch: retryable if any request may
// succeed on a retry (with the longest Retry-After asked for), permanent
// if every failure is permanent.
func classify(errs []error) error {
	var retryable, permanent []error
	var wait time.Duration
	for _, err := range errs {
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			permanent = append(permanent, err)
		default:
			retryable = append(retryable, err)
			var ra *retryAfterError
			if errors.As(err, &ra) && ra.wait > wait {
				wait = ra.wait
			}
		}
	}
	switch {
	case len(retryable) > 0 && wait > 0:
		return exporterhelper.NewThrottleRetry(errors.Join(append(retryable, permanent...)...), wait)
	case len(retryable) > 0:
		return errors.Join(append(retryable, permanent...)...)
	case len(permanent) > 0:
		return consumererror.NewPermanent(errors.Join(permanent...))
	}
	return nil
}

// retryAfterError is a retryable answer that named how long to wait.
type retryAfterError struct {
	err  error
	wait time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// post sends one request.
func (s *Sender) post(ctx context.Context, tenant string, list []*series) error {
	raw, err := (&prompb.WriteRequest{Timeseries: toProto(list)}).Marshal()
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("encoding the write request: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.Endpoint, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	if s.opts.UserAgent != "" {
		req.Header.Set("User-Agent", s.opts.UserAgent)
	}
	if tenant != "" && s.opts.TenantHeader != "" {
		req.Header.Set(s.opts.TenantHeader, tenant)
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("remote write to %s: %w", s.opts.Endpoint, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("remote write to %s answered %s: %s", s.opts.Endpoint, resp.Status, firstLine(resp.Body))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		if wait := retryAfter(resp.Header.Get("Retry-After"), time.Now()); wait > 0 {
			return &retryAfterError{err: err, wait: wait}
		}
		return err
	default:
		return consumererror.NewPermanent(err)
	}
}

// firstLine reads the first line of a response body, at most 256 bytes.
func firstLine(r io.Reader) string {
	sc := bufio.NewScanner(io.LimitReader(r, 4096))
	sc.Buffer(make([]byte, 4096), 4096)
	if !sc.Scan() {
		return "(empty body)"
	}
	line := sc.Text()
	if len(line) > 256 {
		line = line[:256] + "..."
	}
	return line
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs > 0 {
			return time.Duration(secs) * time.Second
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
