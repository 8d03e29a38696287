package remotewrite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
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
	// V2 sends remote write 2.0, falling back to 1.0 for good when the
	// endpoint answers 415 or a 2xx without the written-count headers.
	V2 bool
	// Logger, when set, is told once about a fallback to 1.0.
	Logger func(msg string)
	// SliceSeries bounds the series one slice of a batch is converted into
	// (about; 0 means defaultSliceSeries): a larger batch is sent slice by
	// slice, so that what a batch holds while it is sent is one slice's
	// series and requests, not the whole batch's.
	SliceSeries int
}

// defaultSliceSeries is about a quarter of a batch of 8192 runtime points,
// whose histogram buckets are series of their own.
const defaultSliceSeries = 4096

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
	// v1 is set once the endpoint has shown it does not read 2.0.
	v1 atomic.Bool
}

// errNotV2 says an endpoint did not read a remote write 2.0 request.
var errNotV2 = errors.New("the endpoint does not read remote write 2.0")

// New returns a Sender.
func New(opts Options) *Sender {
	if opts.Shards < 1 {
		opts.Shards = 1
	}
	if opts.SliceSeries <= 0 {
		opts.SliceSeries = defaultSliceSeries
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
//
// A batch of more than SliceSeries series is sent in slices, one after
// another; the resources of one service instance (which make the same
// series) always share a slice, so a series' samples still go in one
// request, in order. Staleness markers go last, once every slice's series
// are recorded.
func (s *Sender) Send(ctx context.Context, md pmetric.Metrics) (Result, error) {
	var res Result
	var errs []error
	if plan := slices(md, s.opts.SliceSeries); plan == nil {
		errs = s.sendSlice(ctx, md, &res)
	} else {
		for _, idx := range plan {
			withSlice(md, idx, func(part pmetric.Metrics) {
				errs = append(errs, s.sendSlice(ctx, part, &res)...)
			})
		}
	}
	if s.stale != nil {
		markers := s.stale.ended()
		tenants := make([]string, 0, len(markers))
		for tenant := range markers {
			tenants = append(tenants, tenant)
		}
		sort.Strings(tenants)
		merrs := make([]error, len(tenants))
		var wg sync.WaitGroup
		for i, tenant := range tenants {
			// Markers go in their own request: a failed one is sent again
			// with the next batch, and delays no data.
			wg.Go(func() { merrs[i] = s.post(ctx, tenant, markers[tenant]) })
		}
		wg.Wait()
		for i, tenant := range tenants {
			if merrs[i] == nil {
				s.stale.forget(markers[tenant])
				res.StalenessMarkers += len(markers[tenant])
			}
		}
		errs = append(errs, merrs...)
	}
	return res, classify(errs)
}

// sendSlice converts one slice of a batch, records its series for
// staleness and delivers them, adding what it did to res.
func (s *Sender) sendSlice(ctx context.Context, md pmetric.Metrics, res *Result) []error {
	col := newCollector(s.opts.TenantLabel, s.opts.NativeHistograms)
	defer col.release()
	conv := prometheusremotewrite.NewPrometheusConverter(col)
	_, convErr := conv.FromMetrics(ctx, md, s.opts.Settings)
	res.DroppedHistograms += col.dropped
	if convErr != nil {
		if j, ok := convErr.(interface{ Unwrap() []error }); ok {
			res.ConversionErrors += len(j.Unwrap())
		} else {
			res.ConversionErrors++
		}
	}
	tenants, byTenant := col.tenants()
	if s.stale != nil {
		for _, tenant := range tenants {
			s.stale.observe(tenant, byTenant[tenant])
		}
	}
	type job struct {
		tenant string
		series []*series
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
	}
	errs := make([]error, len(jobs), len(jobs)+1)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = s.post(ctx, j.tenant, j.series) })
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
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
	return append(errs, permanentIf(convErr))
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

// post sends one request, in 2.0 when configured and the endpoint reads
// it, else in 1.0.
func (s *Sender) post(ctx context.Context, tenant string, list []*series) error {
	if s.opts.V2 && !s.v1.Load() {
		err := s.postV2(ctx, tenant, list)
		if !errors.Is(err, errNotV2) {
			return err
		}
		if s.v1.CompareAndSwap(false, true) && s.opts.Logger != nil {
			s.opts.Logger(fmt.Sprintf("remote write to %s: %v; sending remote write 1.0 from now on", s.opts.Endpoint, err))
		}
	}
	bp := requestBuffers.Get().(*[]byte)
	raw := appendWriteRequest((*bp)[:0], list)
	err := s.send(ctx, tenant, raw, "application/x-protobuf", "0.1.0", nil)
	*bp = raw[:0] // send compressed it before it returned
	requestBuffers.Put(bp)
	return err
}

// postV2 sends one remote write 2.0 request. A 415, or a 2xx without the
// X-Prometheus-Remote-Write-*-Written headers (an endpoint that took the
// request without reading it), is errNotV2.
func (s *Sender) postV2(ctx context.Context, tenant string, list []*series) error {
	req := toV2(list)
	raw, err := req.Marshal()
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("encoding the write request: %w", err))
	}
	samples, histograms := 0, 0
	for _, ts := range req.Timeseries {
		samples += len(ts.Samples)
		histograms += len(ts.Histograms)
	}
	return s.send(ctx, tenant, raw, "application/x-protobuf;proto=io.prometheus.write.v2.Request", "2.0.0", func(resp *http.Response) error {
		if resp.StatusCode == http.StatusUnsupportedMediaType {
			return fmt.Errorf("%w: it answered 415", errNotV2)
		}
		if resp.StatusCode/100 != 2 {
			return nil
		}
		ws, okS := written(resp.Header, "Samples")
		wh, okH := written(resp.Header, "Histograms")
		if !okS && !okH {
			return fmt.Errorf("%w: it answered %s without X-Prometheus-Remote-Write-*-Written headers", errNotV2, resp.Status)
		}
		if ws < samples || wh < histograms {
			return consumererror.NewPermanent(fmt.Errorf("remote write to %s wrote %d of %d samples and %d of %d histograms", s.opts.Endpoint, ws, samples, wh, histograms))
		}
		return nil
	})
}

func written(h http.Header, what string) (int, bool) {
	v := h.Get("X-Prometheus-Remote-Write-" + what + "-Written")
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// send posts a snappy-compressed body; check, when set, looks at the
// answer first and may decide the outcome.
func (s *Sender) send(ctx context.Context, tenant string, raw []byte, contentType, version string, check func(*http.Response) error) error {
	body := newSnappyBody(raw)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.Endpoint, body)
	if err != nil {
		_ = body.Close()
		return consumererror.NewPermanent(err)
	}
	req.ContentLength = int64(body.Len())
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Prometheus-Remote-Write-Version", version)
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
	if check != nil {
		if err := check(resp); err != nil {
			return err
		}
	}
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

// snappyBody is a request body compressed into a pooled buffer, which goes
// back to the pool when the transport closes the body (it always does,
// after the last read, on success and on failure). A new buffer for every
// request was a seventh of an agent's allocations. It cannot be read twice,
// so a 307 or 308 redirect is not followed: its answer is the request's
// outcome.
type snappyBody struct {
	bytes.Reader
	buf  *[]byte
	once sync.Once
}

func newSnappyBody(raw []byte) *snappyBody {
	bp := requestBuffers.Get().(*[]byte)
	if n := snappy.MaxEncodedLen(len(raw)); cap(*bp) < n {
		*bp = make([]byte, n)
	}
	b := &snappyBody{buf: bp}
	b.Reset(snappy.Encode((*bp)[:cap(*bp)], raw))
	return b
}

func (b *snappyBody) Close() error {
	b.once.Do(func() {
		b.Reset(nil)
		requestBuffers.Put(b.buf)
	})
	return nil
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
