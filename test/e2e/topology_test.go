package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tenantQuery runs an instant query against an API that enforces tenancy;
// a range selector gives a matrix, anything else a vector.
func tenantQuery(addr, tenant, q string) ([]matrixSeries, []vectorSample, error) {
	data, err := apiGetAs(context.Background(), addr, tenant, "/api/v1/query", url.Values{"query": {q}})
	if err != nil {
		return nil, nil, err
	}
	var m queryData[matrixSeries]
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, err
	}
	if m.ResultType == "vector" {
		var v queryData[vectorSample]
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, nil, err
		}
		return nil, v.Result, nil
	}
	return m.Result, nil, nil
}

// gatewayEnv is the environment of a gateway on loopback.
func gatewayEnv(t *testing.T, data, api, otlp string) []string {
	_, telemetryPort, _ := strings.Cut(freeAddr(t), ":")
	return []string{
		"OTELCOL_GORUNTIME_OTLP_HTTP=" + otlp,
		"OTELCOL_GORUNTIME_OTLP_GRPC=" + freeAddr(t),
		"OTELCOL_GORUNTIME_DATA=" + data,
		"OTELCOL_GORUNTIME_API=" + api,
		"OTELCOL_GORUNTIME_HEALTH=" + freeAddr(t),
		"OTELCOL_GORUNTIME_TELEMETRY_PORT=" + telemetryPort,
	}
}

// TestAgentGatewayTopology runs config/gateway.yaml and two
// config/agent.yaml processes with different tenants on loopback, restarts
// the gateway mid-run, and checks that each tenant holds its agent's data
// only, with no sample lost across the restart.
func TestAgentGatewayTopology(t *testing.T) {
	startDemo(t, "-listen", "127.0.0.1:0", "-metrics-only")

	gwData, api, otlp := t.TempDir(), freeAddr(t), freeAddr(t)
	gwConfig := filepath.Join(repoRoot, "config", "gateway.yaml")
	gw := startCollector(t, gwConfig, gatewayEnv(t, gwData, api, otlp)...)

	agents := map[string]string{"tenant-a": "host-a", "tenant-b": "host-b"}
	for tenant, host := range agents {
		_, telemetryPort, _ := strings.Cut(freeAddr(t), ":")
		startCollector(t, filepath.Join(repoRoot, "config", "agent.yaml"),
			"OTELCOL_GORUNTIME_GATEWAY=http://"+otlp,
			"OTELCOL_GORUNTIME_TENANT="+tenant,
			"OTELCOL_GORUNTIME_DATA="+t.TempDir(),
			"OTELCOL_GORUNTIME_INTERVAL=1s",
			"OTELCOL_GORUNTIME_DISCOVERY_INTERVAL=2s",
			"OTELCOL_GORUNTIME_HOST_NAME="+host,
			"OTELCOL_GORUNTIME_HEALTH="+freeAddr(t),
			"OTELCOL_GORUNTIME_TELEMETRY_PORT="+telemetryPort,
		)
	}

	// Each tenant gets its agent's own runtime and its discovered processes.
	selfInstance := map[string]string{}
	for tenant, host := range agents {
		waitFor(t, time.Minute, tenant+": agent data at the gateway", func() error {
			_, v, err := tenantQuery(api, tenant, `go_goroutine_count{job="otelcol-goruntime", instance!~"host-.*"}`)
			if err != nil {
				return err
			}
			if len(v) != 1 {
				return fmt.Errorf("%d self series", len(v))
			}
			selfInstance[tenant] = v[0].Metric["instance"]
			_, d, err := tenantQuery(api, tenant, `go_discovery_source_ratio`)
			if err != nil {
				return err
			}
			if len(d) == 0 {
				return fmt.Errorf("no discovered process yet")
			}
			_, info, err := tenantQuery(api, tenant, `target_info{host_name!=""}`)
			if err != nil {
				return err
			}
			for _, s := range info {
				if s.Metric["host_name"] != host {
					return fmt.Errorf("tenant %s holds a process of %s: %v", tenant, s.Metric["host_name"], s.Metric)
				}
			}
			if len(info) == 0 {
				return fmt.Errorf("no discovered process's target_info yet")
			}
			return nil
		})
	}
	if selfInstance["tenant-a"] == selfInstance["tenant-b"] {
		t.Fatalf("both agents report the same instance %q", selfInstance["tenant-a"])
	}
	// Nothing but the tenant's own: every series carries its tenant label,
	// and the other agent's instance is not there.
	for tenant := range agents {
		_, all, err := tenantQuery(api, tenant, `count by (tenant) ({__name__=~".+"})`)
		if err != nil || len(all) != 1 || all[0].Metric["tenant"] != tenant {
			t.Errorf("tenant %s: series by tenant label = %v (%v), want only %s", tenant, all, err, tenant)
		}
		for other, inst := range selfInstance {
			if other == tenant {
				continue
			}
			if _, v, err := tenantQuery(api, tenant, fmt.Sprintf(`{instance=%q}`, inst)); err != nil || len(v) != 0 {
				t.Errorf("tenant %s holds %d series of %s's agent (%v)", tenant, len(v), other, err)
			}
		}
	}

	// The gateway goes away for a while; the agents queue and, once it is
	// back, deliver everything they scraped meanwhile.
	time.Sleep(2 * time.Second)
	down := time.Now()
	gw.stop(syscall.SIGTERM, 30*time.Second)
	time.Sleep(6 * time.Second)
	up := time.Now()
	startCollector(t, gwConfig, gatewayEnv(t, gwData, api, otlp)...)
	for tenant, inst := range selfInstance {
		q := fmt.Sprintf(`go_goroutine_count{instance=%q}[%ds]`, inst, int(time.Since(down).Seconds())+20)
		waitFor(t, 90*time.Second, tenant+": the outage's samples delivered", func() error {
			m, _, err := tenantQuery(api, tenant, q)
			if err != nil {
				return err
			}
			if len(m) != 1 {
				return fmt.Errorf("%d series", len(m))
			}
			var ts []float64
			for _, p := range m[0].Values {
				ts = append(ts, p[0].(float64))
			}
			sort.Float64s(ts)
			if len(ts) == 0 || ts[0] > float64(down.Unix())-2 || ts[len(ts)-1] < float64(up.Unix())+2 {
				return fmt.Errorf("samples from %v to %v do not span the outage", ts[0], ts[len(ts)-1])
			}
			gap := 0.0
			for i := 1; i < len(ts); i++ {
				gap = math.Max(gap, ts[i]-ts[i-1])
			}
			if gap > 1.5 {
				return fmt.Errorf("a %.1f s gap in the 1 s samples around the outage", gap)
			}
			t.Logf("%s: %d samples over %.0f s around a %.0f s outage, largest gap %.1f s", tenant, len(ts), ts[len(ts)-1]-ts[0], up.Sub(down).Seconds(), gap)
			return nil
		})
	}
}
