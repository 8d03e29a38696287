package discovery // import "github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/discovery"

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/otelcol-goruntime/otelcol-goruntime/receiver/goruntimereceiver/internal/target"
)

// ProbeResult is what a port answered.
type ProbeResult struct {
	// Addr is the address that was asked.
	Addr netip.AddrPort
	// HTTP is true when the port answered any request with HTTP.
	HTTP bool
	// Sources are the Go endpoints found, in the target package's names.
	Sources []string
}

// probeBodyLimit is how much of an answer a probe reads.
const probeBodyLimit = 64 << 10

// HTTPProber asks ports for /debug/vars, /metrics and /debug/pprof/ with
// GET requests only, following no redirects and using no proxy, so that a
// probe never reaches beyond the address it was given.
type HTTPProber struct {
	client *http.Client
}

// NewHTTPProber returns a prober whose every request gives up after timeout.
func NewHTTPProber(timeout time.Duration) *HTTPProber {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{Timeout: timeout}).DialContext,
		MaxResponseHeaderBytes: 64 << 10,
		ResponseHeaderTimeout:  timeout,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    1,
		IdleConnTimeout:        time.Second,
	}
	return &HTTPProber{client: &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Probe asks addr for each endpoint. The first request that gets no HTTP
// answer ends the probe: the port is not HTTP.
func (p *HTTPProber) Probe(ctx context.Context, addr netip.AddrPort) ProbeResult {
	res := ProbeResult{Addr: addr}
	defer p.client.CloseIdleConnections()
	for _, ep := range []struct {
		source, path string
		ok           func(h http.Header, body []byte) bool
	}{
		{target.SourceExpvar, "/debug/vars", func(h http.Header, b []byte) bool {
			return strings.HasPrefix(h.Get("Content-Type"), "application/json") && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{"))
		}},
		{target.SourcePrometheus, "/metrics", func(h http.Header, _ []byte) bool {
			ct := h.Get("Content-Type")
			return strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "application/openmetrics-text")
		}},
		{target.SourceGoroutines, "/debug/pprof/", func(_ http.Header, b []byte) bool {
			return bytes.Contains(b, []byte("goroutine"))
		}},
	} {
		status, h, body, err := p.get(ctx, "http://"+addr.String()+ep.path)
		if err != nil {
			return res
		}
		res.HTTP = true
		if status == http.StatusOK && ep.ok(h, body) {
			res.Sources = append(res.Sources, ep.source)
		}
	}
	return res
}

func (p *HTTPProber) get(ctx context.Context, url string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4, application/json;q=0.9, */*;q=0.1")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, probeBodyLimit))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return resp.StatusCode, resp.Header, nil, nil
	}
	return resp.StatusCode, resp.Header, body, nil
}
