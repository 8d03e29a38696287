package tsdbexporter // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/promapi"
	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/remotewrite"
	"github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/store"
)

type tsdbExporter struct {
	cfg       *Config
	set       exporter.Settings
	telemetry *metadata.TelemetryBuilder
	// newest is the newest delivered remote-write sample, Unix ms.
	newest atomic.Int64
	// rejected holds one attribute set per reason, built once.
	rejected [store.NumReasons]metric.MeasurementOption

	mu     sync.Mutex
	sender *remotewrite.Sender
	store  *store.Store
	server *http.Server
	served chan struct{} // closed when the server's Serve returns
}

func newTSDBExporter(cfg *Config, set exporter.Settings) (*tsdbExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &tsdbExporter{cfg: cfg, set: set, telemetry: tb}
	if cfg.remote() {
		err = tb.RegisterTsdbExporterRemoteNewestSampleCallback(func(_ context.Context, o metric.Float64Observer) error {
			if ms := e.newest.Load(); ms > 0 {
				o.Observe(float64(ms) / 1000)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for r := range store.NumReasons {
		e.rejected[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r.String())))
	}
	return e, nil
}

func (e *tsdbExporter) start(ctx context.Context, host component.Host) error {
	logger := slog.New(zapslog.NewHandler(e.set.Logger.Core()))
	promote := e.cfg.PromoteResourceAttributes
	if !slices.Contains(promote, e.cfg.TenantAttribute) {
		promote = append(slices.Clone(promote), e.cfg.TenantAttribute)
	}
	tenantLabel, err := labelName(e.cfg.TenantAttribute)
	if err != nil {
		return err
	}
	if e.cfg.remote() {
		return e.startRemote(ctx, host, promote, tenantLabel)
	}
	st, err := store.Open(store.Options{
		Path:                      e.cfg.Storage.Path,
		Retention:                 e.cfg.Storage.Retention,
		RetentionSize:             int64(e.cfg.Storage.RetentionSize),
		OutOfOrderWindow:          e.cfg.Storage.OutOfOrderWindow,
		PromoteResourceAttributes: promote,
		ClassicHistogramsAsNative: e.cfg.Storage.ClassicHistograms == classicHistogramsNative,
		TenantLabel:               tenantLabel,
		Logger:                    logger,
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.store = st
	e.mu.Unlock()
	e.set.Logger.Info("Embedded TSDB opened", zap.String("path", e.cfg.Storage.Path))

	if e.cfg.API.NetAddr.Endpoint == "" {
		return nil
	}
	if err := e.startAPI(ctx, host, st, tenantLabel, logger); err != nil {
		_ = st.Close()
		return err
	}
	return nil
}

func (e *tsdbExporter) startAPI(ctx context.Context, host component.Host, st *store.Store, tenantLabel string, logger *slog.Logger) error {
	opts := promapi.Options{
		Timeout:       e.cfg.Query.Timeout,
		MaxSamples:    e.cfg.Query.MaxSamples,
		LookbackDelta: e.cfg.Query.LookbackDelta,
		SubqueryStep:  defaultSubqueryStep,
		Version:       e.set.BuildInfo.Version,
		Logger:        logger,
		Metadata:      st.Metadata,
	}
	if e.cfg.Tenancy.Enabled {
		opts.Tenant = e.cfg.Tenancy.tenantOf
		opts.TenantLabel = tenantLabel
	}
	if e.cfg.EnableAdminAPI {
		snapshots := filepath.Join(e.cfg.Storage.Path, "snapshots")
		opts.Snapshot = func() (string, error) { return st.Snapshot(snapshots) }
	}
	api := promapi.New(st.Queryable(), opts)
	ln, err := e.cfg.API.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("query API cannot listen on %q: %w", e.cfg.API.NetAddr.Endpoint, err)
	}
	srv, err := e.cfg.API.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, api.Handler())
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("query API server: %w", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			e.set.Logger.Error("Query API server stopped", zap.Error(err))
		}
	}()
	e.mu.Lock()
	e.server, e.served = srv, served
	e.mu.Unlock()
	e.set.Logger.Info("Prometheus query API listening", zap.String("url", "http://"+ln.Addr().String()+"/api/v1/"))
	return nil
}

// startRemote builds the remote-write sender; no store or API runs.
func (e *tsdbExporter) startRemote(ctx context.Context, host component.Host, promote []string, tenantLabel string) error {
	client, err := e.cfg.RemoteWrite.HTTP.ToClient(ctx, host.GetExtensions(), e.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("remote write client: %w", err)
	}
	// A redirect would need the request body again, which is not kept, and
	// a 301/302 would turn the POST into a GET: the 3xx is the answer.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rw := e.cfg.RemoteWrite
	sender := remotewrite.New(remotewrite.Options{
		Client:           client,
		Endpoint:         rw.HTTP.Endpoint,
		TenantLabel:      tenantLabel,
		TenantHeader:     rw.TenantHeader,
		Shards:           rw.Shards,
		NativeHistograms: rw.NativeHistograms,
		Settings:         store.TranslationSettings(promote, false),
		UserAgent:        e.set.BuildInfo.Command + "/" + e.set.BuildInfo.Version,
		StaleAfter:       rw.StaleAfter,
		V2:               rw.Protocol == "2.0",
		Logger:           func(msg string) { e.set.Logger.Warn(msg) },
	})
	e.mu.Lock()
	e.sender = sender
	e.mu.Unlock()
	e.set.Logger.Info("Remote write", zap.String("endpoint", rw.HTTP.Endpoint), zap.Int("shards", rw.Shards))
	return nil
}

// labelName is the Prometheus label an attribute key becomes, by the same
// rules as the OTLP translation.
func labelName(attribute string) (string, error) {
	namer := otlptranslator.LabelNamer{
		// The same as the converter's LabelNameUnderscoreSanitization, which
		// Prometheus' OTLP receiver still turns on.
		UnderscoreLabelSanitization: true, //nolint:staticcheck // see above
		PreserveMultipleUnderscores: true,
	}
	name, err := namer.Build(attribute)
	if err != nil {
		return "", fmt.Errorf("tenant attribute %q: %w", attribute, err)
	}
	return name, nil
}

func (e *tsdbExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	e.mu.Lock()
	st, sender := e.store, e.sender
	e.mu.Unlock()
	if sender != nil {
		res, err := sender.Send(ctx, md)
		e.telemetry.TsdbExporterRemoteSamplesSent.Add(ctx, int64(res.Samples))
		for {
			cur := e.newest.Load()
			if res.Newest <= cur || e.newest.CompareAndSwap(cur, res.Newest) {
				break
			}
		}
		if res.StalenessMarkers > 0 {
			e.telemetry.TsdbExporterRemoteStalenessMarkers.Add(ctx, int64(res.StalenessMarkers))
		}
		if res.DroppedHistograms > 0 {
			e.telemetry.TsdbExporterRemoteHistogramsDropped.Add(ctx, int64(res.DroppedHistograms))
		}
		if res.ConversionErrors > 0 {
			e.telemetry.TsdbExporterConversionErrors.Add(ctx, int64(res.ConversionErrors))
		}
		return err
	}
	if st == nil {
		return errors.New("the embedded TSDB is not open")
	}
	stats, err := st.Write(ctx, md)
	e.telemetry.TsdbExporterSamplesAppended.Add(ctx, int64(stats.Appended))
	for r, n := range stats.Rejected {
		if n > 0 {
			e.telemetry.TsdbExporterSamplesRejected.Add(ctx, int64(n), e.rejected[r])
		}
	}
	if stats.ConversionErrors > 0 {
		e.telemetry.TsdbExporterConversionErrors.Add(ctx, int64(stats.ConversionErrors))
		// The rest of the batch is written; retrying cannot fix these.
		return consumererror.NewPermanent(err)
	}
	return err
}

// shutdown stops the API and closes the store. It works without start and
// when called more than once.
func (e *tsdbExporter) shutdown(ctx context.Context) error {
	e.mu.Lock()
	srv, served, st := e.server, e.served, e.store
	e.server, e.store = nil, nil
	e.mu.Unlock()
	var errs []error
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the query API: %w", err))
		}
		<-served
	}
	if st != nil {
		if err := st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the TSDB: %w", err))
		}
	}
	e.telemetry.Shutdown()
	return errors.Join(errs...)
}
