// Package store is the embedded Prometheus TSDB and its write path: OTLP
// metrics go through Prometheus' own OTLP translation into a TSDB appender,
// exactly as Prometheus' OTLP receiver writes them.
package store // import "github.com/otelcol-goruntime/otelcol-goruntime/exporter/tsdbexporter/internal/store"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"github.com/prometheus/prometheus/tsdb"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Options configures the store.
type Options struct {
	// Path is the data directory.
	Path string
	// Retention is how long samples are kept.
	Retention time.Duration
	// RetentionSize bounds the bytes of blocks, WAL and chunks on disk; the
	// oldest blocks go first. 0 means no bound.
	RetentionSize int64
	// OutOfOrderWindow is how far behind the newest sample of a series a
	// sample may arrive and still be stored.
	OutOfOrderWindow time.Duration
	// PromoteResourceAttributes are resource attributes written as labels on
	// every series of their resource (all resource attributes stay in
	// target_info).
	PromoteResourceAttributes []string
	// ClassicHistogramsAsNative stores explicit-bucket histograms as native
	// histograms with custom buckets instead of classic _bucket series.
	ClassicHistogramsAsNative bool
	// TenantLabel is the label that carries the tenant; metadata is kept
	// per tenant by it.
	TenantLabel string
	// MaxMetadata bounds the metric families whose metadata is kept, over
	// all tenants; 0 means 100000.
	MaxMetadata int
	Logger      *slog.Logger
}

// Reason says why the store refused a sample.
type Reason int

// The reasons a sample is refused; see Reason.String for their names.
const (
	ReasonOutOfOrder Reason = iota
	ReasonDuplicateTimestamp
	ReasonTooOld
	ReasonOutOfBounds
	NumReasons
)

func (r Reason) String() string {
	return [...]string{"out_of_order", "duplicate_timestamp", "too_old", "out_of_bounds"}[r]
}

// reasonOf classifies an append error; ok is false for errors that are not
// about one sample being refused.
func reasonOf(err error) (Reason, bool) {
	switch {
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return ReasonOutOfOrder, true
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return ReasonDuplicateTimestamp, true
	case errors.Is(err, storage.ErrTooOldSample):
		return ReasonTooOld, true
	case errors.Is(err, storage.ErrOutOfBounds):
		return ReasonOutOfBounds, true
	}
	return 0, false
}

// WriteStats counts what one Write did.
type WriteStats struct {
	// Appended samples were committed.
	Appended int
	// Rejected samples were refused by the store, by reason; the rest of the
	// batch is still written.
	Rejected [NumReasons]int
	// ConversionErrors counts metrics the OTLP translation refused.
	ConversionErrors int
}

// Store is an open embedded TSDB.
type Store struct {
	db         *tsdb.DB
	metadata   *metadataIndex
	settings   prometheusremotewrite.Settings
	converters sync.Pool
	closeOnce  sync.Once
	closeErr   error
}

// Open opens (or creates) the TSDB at opts.Path and replays its WAL.
func Open(opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	to := tsdb.DefaultOptions()
	to.RetentionDuration = opts.Retention.Milliseconds()
	to.MaxBytes = opts.RetentionSize
	to.OutOfOrderTimeWindow = opts.OutOfOrderWindow.Milliseconds()
	db, err := tsdb.Open(opts.Path, opts.Logger, nil, to, nil)
	if err != nil {
		return nil, fmt.Errorf("opening the TSDB in %q: %w", opts.Path, err)
	}
	s := &Store{
		db:       db,
		settings: TranslationSettings(opts.PromoteResourceAttributes, opts.ClassicHistogramsAsNative),
		metadata: newMetadataIndex(opts.TenantLabel, opts.MaxMetadata),
	}
	s.converters.New = func() any { return prometheusremotewrite.NewPrometheusConverter(nil) }
	return s, nil
}

// TranslationSettings are the OTLP translation settings of the store, and
// of remote write, so that both name and label series alike.
func TranslationSettings(promote []string, classicAsNative bool) prometheusremotewrite.Settings {
	return prometheusremotewrite.Settings{
		AddMetricSuffixes: true,
		PromoteResourceAttributes: prometheusremotewrite.NewPromoteResourceAttributes(config.OTLPConfig{
			PromoteResourceAttributes: promote,
		}),
		// Prometheus' defaults for its OTLP receiver.
		LabelNameUnderscoreSanitization:      true,
		LabelNamePreserveMultipleUnderscores: true,
		ConvertHistogramsToNHCB:              classicAsNative,
	}
}

// Queryable gives read access for queries.
func (s *Store) Queryable() storage.Queryable { return s.db }

// Metadata returns the metadata of the metric families written for tenant
// (all tenants when tenant is ""), by family name.
func (s *Store) Metadata(tenant string) map[string][]metadata.Metadata {
	return s.metadata.get(tenant)
}

// Snapshot writes a consistent copy of the store, head included, into a new
// folder under dir and returns its path.
func (s *Store) Snapshot(dir string) (string, error) {
	name := time.Now().UTC().Format("20060102T150405Z") + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	path := filepath.Join(dir, name)
	if err := s.db.Snapshot(path, true); err != nil {
		return "", fmt.Errorf("snapshot into %q: %w", path, err)
	}
	return path, nil
}

// DB is the underlying TSDB, for tests.
func (s *Store) DB() *tsdb.DB { return s.db }

// Write converts md and commits it in one transaction. Samples the store
// refuses (out of order, duplicate, too old) are counted and skipped; the
// rest is committed. Metrics the translation refuses (such as delta
// temporality) are skipped too, and reported in the returned error after the
// rest was committed. An error from the commit itself means nothing was
// written.
func (s *Store) Write(ctx context.Context, md pmetric.Metrics) (WriteStats, error) {
	var stats WriteStats
	app := &countingAppender{AppenderV2: s.db.AppenderV2(ctx), stats: &stats, metadata: s.metadata}
	conv := s.converters.Get().(*prometheusremotewrite.PrometheusConverter)
	conv.Reset(app)
	_, convErr := conv.FromMetrics(ctx, md, s.settings)
	conv.Reset(nil)
	s.converters.Put(conv)

	if ctx.Err() != nil {
		_ = app.Rollback()
		return WriteStats{}, ctx.Err()
	}
	if err := app.Commit(); err != nil {
		return WriteStats{}, fmt.Errorf("committing to the TSDB: %w", err)
	}
	if convErr != nil {
		stats.ConversionErrors = countJoined(convErr)
	}
	return stats, convErr
}

// countJoined counts the errors joined into err.
func countJoined(err error) int {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap())
	}
	return 1
}

// Close closes the TSDB; it is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// countingAppender counts appended samples and turns the store's refusal of
// single samples into counts, so that one refused sample does not stop the
// conversion of the rest of the batch.
type countingAppender struct {
	storage.AppenderV2
	stats    *WriteStats
	metadata *metadataIndex
	// lastFamily skips the metadata update for consecutive samples of one
	// family, which is how the converter appends them.
	lastFamily string
}

func (a *countingAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	if opts.MetricFamilyName != "" && opts.MetricFamilyName != a.lastFamily {
		a.lastFamily = opts.MetricFamilyName
		a.metadata.record(ls, opts.MetricFamilyName, opts.Metadata)
	}
	ref, err := a.AppenderV2.Append(ref, ls, st, t, v, h, fh, opts)
	if err == nil {
		a.stats.Appended++
		return ref, nil
	}
	var partial *storage.AppendPartialError
	if errors.As(err, &partial) {
		// The sample was stored; only its exemplars were not.
		a.stats.Appended++
		return ref, nil
	}
	if r, ok := reasonOf(err); ok {
		a.stats.Rejected[r]++
		return ref, nil
	}
	return ref, err
}
