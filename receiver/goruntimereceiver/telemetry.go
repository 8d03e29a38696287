package goruntimereceiver // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver"

import (
	"context"

	"go.opentelemetry.io/collector/component"
)

// otelhttpScope is the instrumentation scope of otelhttp, which confighttp
// wraps around every client.
const otelhttpScope = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

// httpInstrumentationKept says whether anything would keep what otelhttp
// records for the scrape requests: its metrics, which the service drops
// below `level: detailed`, or its spans, which need a recording tracer
// (service::telemetry::traces configured).
func httpInstrumentationKept(ctx context.Context, set component.TelemetrySettings) bool {
	if set.TracerProvider == nil || set.MeterProvider == nil {
		return false
	}
	h, err := set.MeterProvider.Meter(otelhttpScope).Float64Histogram("http.client.request.duration")
	if err != nil || h.Enabled(ctx) {
		return true
	}
	// A span that records means traces are kept. It is never ended, so it
	// is never exported: span processors act on End.
	_, span := set.TracerProvider.Tracer(otelhttpScope).Start(ctx, "go_runtime instrumentation check")
	return span.IsRecording()
}
