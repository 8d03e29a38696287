package goruntimereceiver

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/discovery"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/metadata"
	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"
)

func TestServiceName(t *testing.T) {
	shop := discovery.BuildInfo{PackagePath: "example.com/shop/cmd/checkout", ModulePath: "example.com/shop"}
	for _, tc := range []struct {
		from, want string
		b          discovery.BuildInfo
	}{
		{serviceNameFromModule, "shop", shop},
		{serviceNameFromPackage, "checkout", shop},
		{serviceNameFromExecutable, "exe-name", shop},
		{serviceNameFromModule, "shop", discovery.BuildInfo{ModulePath: "example.com/shop/v2"}},
		{serviceNameFromPackage, "api", discovery.BuildInfo{PackagePath: "example.com/api/v3", ModulePath: "example.com/api/v3"}},
		{serviceNameFromPackage, "v2", discovery.BuildInfo{PackagePath: "v2"}},
		{serviceNameFromPackage, "exe-name", discovery.BuildInfo{PackagePath: "command-line-arguments"}},
		{serviceNameFromModule, "exe-name", discovery.BuildInfo{PackagePath: "command-line-arguments"}},
	} {
		assert.Equal(t, tc.want, serviceName(discovery.Process{ExeName: "exe-name", Build: tc.b}, tc.from), "%+v", tc)
	}
}

func TestMarkStaleFlagsEveryPoint(t *testing.T) {
	rm := pmetric.NewResourceMetrics()
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	ms.AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	sum := ms.AppendEmpty().SetEmptySum().DataPoints()
	sum.AppendEmpty().SetDoubleValue(2)
	sum.AppendEmpty().SetDoubleValue(3)
	ms.AppendEmpty().SetEmptyHistogram().DataPoints().AppendEmpty().SetCount(4)
	ms.AppendEmpty().SetEmptyExponentialHistogram().DataPoints().AppendEmpty().SetCount(5)
	ms.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty().SetCount(6)

	ts := pcommon.Timestamp(42)
	markStale(rm, ts)
	n := 0
	check := func(flags pmetric.DataPointFlags, at pcommon.Timestamp) {
		n++
		assert.True(t, flags.NoRecordedValue())
		assert.Equal(t, ts, at)
	}
	for i := range ms.Len() {
		m := ms.At(i)
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			p := m.Gauge().DataPoints().At(0)
			check(p.Flags(), p.Timestamp())
		case pmetric.MetricTypeSum:
			for j := range m.Sum().DataPoints().Len() {
				p := m.Sum().DataPoints().At(j)
				check(p.Flags(), p.Timestamp())
			}
		case pmetric.MetricTypeHistogram:
			p := m.Histogram().DataPoints().At(0)
			check(p.Flags(), p.Timestamp())
		case pmetric.MetricTypeExponentialHistogram:
			p := m.ExponentialHistogram().DataPoints().At(0)
			check(p.Flags(), p.Timestamp())
		case pmetric.MetricTypeSummary:
			p := m.Summary().DataPoints().At(0)
			check(p.Flags(), p.Timestamp())
		}
	}
	assert.Equal(t, 6, n)
}

// A discovered endpoint that is also a configured target is read once, by
// the target.
func TestStaticTargetsAreNotScrapedTwice(t *testing.T) {
	static := staticAddrs([]TargetConfig{
		{Endpoint: "http://localhost:6060"},
		{Endpoint: "http://127.0.0.1:9090/"},
		{Endpoint: "https://10.0.0.7"},
		{Endpoint: "http://checkout.internal:8080"},
	})
	assert.Equal(t, map[netip.AddrPort]bool{
		netip.MustParseAddrPort("127.0.0.1:6060"): true,
		netip.MustParseAddrPort("[::1]:6060"):     true,
		netip.MustParseAddrPort("127.0.0.1:9090"): true,
		netip.MustParseAddrPort("10.0.0.7:443"):   true,
	}, static)

	h := &hostDiscovery{cfg: createDefaultConfig().(*Config).Discovery, static: static, client: http.DefaultClient}
	h.mbc = metadata.NewDefaultMetricsBuilderConfig()
	h.set = receivertest.NewNopSettings(metadata.Type)
	dp := &discoveredProcess{targets: map[string]*target.Target{}, proc: discovery.Process{Endpoints: []discovery.Endpoint{
		{Addr: netip.MustParseAddrPort("127.0.0.1:6060"), Sources: []string{"expvar"}},
		{Addr: netip.MustParseAddrPort("127.0.0.1:7070"), Sources: []string{"prometheus"}},
	}}}
	assert.Len(t, h.targetsOf(dp), 1, "only the endpoint no target names")
}
