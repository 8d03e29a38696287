package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// TestTenantLimitsThroughTheCollector sends OTLP for two tenants, told
// apart by X-Scope-OrgID, through the built collector: one stays within its
// series limit, the other goes over it. The store holds all of the first
// tenant's series and exactly the limit of the second's, under their
// tenant labels; with tenancy on, the query API shows each tenant only its
// own series; and the collector's telemetry counts exactly the points
// dropped.
func TestTenantLimitsThroughTheCollector(t *testing.T) {
	const limit, seriesA, seriesB = 50, 30, 80
	otlpAddr, apiAddr, telemetryAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	telemetryHost, telemetryPort, _ := strings.Cut(telemetryAddr, ":")
	config := filepath.Join(t.TempDir(), "gateway.yaml")
	writeFile(t, config, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
        include_metadata: true
processors:
  tenant:
    sources:
      - metadata: X-Scope-OrgID
    default_tenant: ""
    limits:
      max_series_per_tenant: %d
  batch:
    timeout: 200ms
    metadata_keys: [X-Scope-OrgID]
exporters:
  tsdb:
    storage:
      path: %s
    api:
      endpoint: %s
    tenancy:
      enabled: true
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: %s
                port: %s
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [tenant, batch]
      exporters: [tsdb]
`, otlpAddr, limit, filepath.Join(t.TempDir(), "tsdb"), apiAddr, telemetryHost, telemetryPort))

	startCollector(t, config)
	waitFor(t, time.Minute, "query API answering", func() error {
		_, err := apiGet(context.Background(), apiAddr, "/api/v1/status/buildinfo", nil)
		return err
	})

	now := time.Now()
	sendOTLP(t, otlpAddr, "team-a", seriesBatch(seriesA, now), http.StatusOK)
	sendOTLP(t, otlpAddr, "team-b", seriesBatch(seriesB, now), http.StatusOK)
	// A client that names no tenant gets nothing stored.
	sendOTLP(t, otlpAddr, "", seriesBatch(5, now), http.StatusOK)

	// The query API serves each tenant only its own series.
	for tenant, want := range map[string]int{"team-a": seriesA, "team-b": limit} {
		waitFor(t, 30*time.Second, tenant+" stored", func() error {
			counts, err := tenantCounts(apiAddr, tenant)
			if err != nil {
				return err
			}
			if len(counts) != 1 || counts[tenant] != want {
				return fmt.Errorf("%s sees series per tenant %v, want only its own %d", tenant, counts, want)
			}
			return nil
		})
	}
	if _, err := tenantCounts(apiAddr, ""); err == nil || !strings.Contains(err.Error(), "status 401") {
		t.Errorf("a query without a tenant: %v, want a 401", err)
	}

	// The drop counter says exactly how many points were dropped, and why.
	want := map[string]float64{
		`metric="e2e.series",reason="tenant_series_limit",tenant="team-b"`: seriesB - limit,
		`metric="_other",reason="missing_tenant",tenant=""`:                5,
	}
	waitFor(t, 30*time.Second, "drop counters", func() error {
		got, err := dropCounters(telemetryAddr)
		if err != nil {
			return err
		}
		for k, v := range want {
			if got[k] != v {
				return fmt.Errorf("dropped %v, want %v", got, want)
			}
		}
		if len(got) != len(want) {
			return fmt.Errorf("dropped %v, want only %v", got, want)
		}
		return nil
	})
}

// tenantCounts asks the query API, as tenant, for its series per tenant.
func tenantCounts(addr, tenant string) (map[string]int, error) {
	data, err := apiGetAs(context.Background(), addr, tenant, "/api/v1/query",
		url.Values{"query": {`count by (tenant) ({__name__=~".+", __name__!="target_info"})`}})
	if err != nil {
		return nil, err
	}
	var d queryData[vectorSample]
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, s := range d.Result {
		f, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		out[s.Metric["tenant"]] = int(f)
	}
	return out, nil
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// seriesBatch is one gauge metric with n series.
func seriesBatch(n int, ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "load")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("e2e.series")
	dps := m.SetEmptyGauge().DataPoints()
	for i := range n {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetIntValue(int64(i))
		dp.Attributes().PutStr("series", strconv.Itoa(i))
	}
	return md
}

// sendOTLP posts md as OTLP/HTTP protobuf with the tenant header (none
// when tenant is empty) and fails the test on any other answer than want.
func sendOTLP(t *testing.T, addr, tenant string, md pmetric.Metrics, wantStatus int) {
	t.Helper()
	status, body, err := postOTLPStatus(addr, tenant, md)
	if err != nil {
		t.Fatalf("sending OTLP: %v", err)
	}
	if status != wantStatus {
		t.Fatalf("OTLP answered %d, want %d: %s", status, wantStatus, body)
	}
}

// postOTLP posts md and returns an error unless it was accepted.
func postOTLP(addr, tenant string, md pmetric.Metrics) error {
	status, body, err := postOTLPStatus(addr, tenant, md)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("OTLP answered %d: %s", status, body)
	}
	return nil
}

func postOTLPStatus(addr, tenant string, md pmetric.Metrics) (int, []byte, error) {
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/metrics", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

var droppedLine = regexp.MustCompile(`^otelcol_tenant_points_dropped(?:_total)?\{(.*)\} (\S+)$`)

// dropCounters reads the collector's own metrics endpoint and returns the
// drop counter by its tenant, metric and reason labels.
func dropCounters(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		m := droppedLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var keep []string
		for _, l := range strings.Split(m[1], ",") {
			if strings.HasPrefix(l, "metric=") || strings.HasPrefix(l, "reason=") || strings.HasPrefix(l, "tenant=") {
				keep = append(keep, l)
			}
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", line, err)
		}
		out[strings.Join(keep, ",")] += v
	}
	return out, nil
}
