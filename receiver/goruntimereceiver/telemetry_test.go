package goruntimereceiver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component/componenttest"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

func TestHTTPInstrumentationKeptOnlyWhenSomethingKeepsIt(t *testing.T) {
	ctx := context.Background()
	dropHTTP := sdkmetric.NewView(sdkmetric.Instrument{Scope: instrumentation.Scope{Name: otelhttpScope}}, sdkmetric.Stream{Aggregation: sdkmetric.AggregationDrop{}})
	spans := tracetest.NewSpanRecorder()
	for name, tc := range map[string]struct {
		meter  func() *sdkmetric.MeterProvider
		traces bool
		want   bool
	}{
		"metrics dropped, no traces (level normal)": {meter: func() *sdkmetric.MeterProvider {
			return sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()), sdkmetric.WithView(dropHTTP))
		}},
		"metrics kept (level detailed)": {meter: func() *sdkmetric.MeterProvider {
			return sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		}, want: true},
		"traces configured": {meter: func() *sdkmetric.MeterProvider {
			return sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()), sdkmetric.WithView(dropHTTP))
		}, traces: true, want: true},
	} {
		t.Run(name, func(t *testing.T) {
			set := componenttest.NewNopTelemetrySettings()
			set.MeterProvider = tc.meter()
			set.TracerProvider = tracenoop.NewTracerProvider()
			if tc.traces {
				set.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			}
			assert.Equal(t, tc.want, httpInstrumentationKept(ctx, set))
		})
	}
	assert.Empty(t, spans.Ended(), "the check exports no span")

	set := componenttest.NewNopTelemetrySettings()
	set.MeterProvider = metricnoop.NewMeterProvider()
	assert.False(t, httpInstrumentationKept(ctx, set), "the nop settings keep nothing")
}
