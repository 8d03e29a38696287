package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository's top folder, two levels above this package.
var repoRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}()

var (
	buildOnce sync.Once
	binPath   string
	errBuild  error
)

// collectorBinary returns the collector binary: $OTELCOL_GORUNTIME_BIN when
// set (make test passes the one it built; a relative path is taken from the
// repository root), otherwise one built here once.
func collectorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("OTELCOL_GORUNTIME_BIN"); p != "" {
			if !filepath.IsAbs(p) {
				p = filepath.Join(repoRoot, p)
			}
			binPath = p
			_, errBuild = os.Stat(binPath)
			return
		}
		dir, err := os.MkdirTemp("", "otelcol-goruntime-e2e-bin")
		if err != nil {
			errBuild = err
			return
		}
		binPath = filepath.Join(dir, "otelcol-goruntime")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "./distribution")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build: static
		if out, err := cmd.CombinedOutput(); err != nil {
			errBuild = fmt.Errorf("go build ./distribution: %w\n%s", err, out)
		}
	})
	if errBuild != nil {
		t.Fatalf("no collector binary: %v", errBuild)
	}
	return binPath
}

// requireTool finds a peer program on PATH or fails the test with the
// command that installs it. Tests never skip for a missing peer.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed by this test and is not installed: run `%s` (make test-deps does it)", name, install)
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// collector is one running collector process.
type collector struct {
	t   *testing.T
	cmd *exec.Cmd
	log *bytes.Buffer
	mu  sync.Mutex
	// exited is closed when the process has exited; err is its Wait error.
	exited chan struct{}
	err    error
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// startCollector runs the binary with config and env; the process is killed
// when the test ends if it is still running, and its log is printed if the
// test failed.
func startCollector(t *testing.T, config string, env ...string) *collector {
	t.Helper()
	c := &collector{t: t, log: new(bytes.Buffer), exited: make(chan struct{})}
	c.cmd = exec.Command(collectorBinary(t), "--config", config)
	c.cmd.Dir = repoRoot
	c.cmd.Env = append(os.Environ(), env...)
	w := lockedWriter{&c.mu, c.log}
	c.cmd.Stdout, c.cmd.Stderr = w, w
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting the collector: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			t.Logf("collector log:\n%s", c.logText())
		}
	})
	return c
}

func (c *collector) logText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// stop sends sig and waits for the process to exit.
func (c *collector) stop(sig syscall.Signal, within time.Duration) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signalling the collector: %v", err)
	}
	select {
	case <-c.exited:
	case <-time.After(within):
		c.t.Fatalf("the collector did not exit within %s of %v", within, sig)
	}
	if sig == syscall.SIGTERM && c.err != nil {
		c.t.Fatalf("the collector exited with %v after SIGTERM", c.err)
	}
}

// promResponse is the envelope of a Prometheus API answer.
type promResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

type matrixSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

type queryData[T any] struct {
	ResultType string `json:"resultType"`
	Result     []T    `json:"result"`
}

// apiGet calls the query API; it returns an error for transport failures
// and non-success answers.
func apiGet(ctx context.Context, addr, path string, params url.Values) (json.RawMessage, error) {
	return apiGetAs(ctx, addr, "", path, params)
}

// apiGetAs is apiGet as a tenant (X-Scope-OrgID), when tenant is set.
func apiGetAs(ctx context.Context, addr, tenant, path string, params url.Values) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path+"?"+params.Encode(), http.NoBody)
	if err != nil {
		return nil, err
	}
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r promResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: status %d, undecodable body: %w", path, resp.StatusCode, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: status %d, %s: %s", path, resp.StatusCode, r.ErrorType, r.Error)
	}
	return r.Data, nil
}

// query runs an instant query and decodes the result as T.
func query[T any](t *testing.T, addr, q string, extra url.Values) []T {
	t.Helper()
	params := url.Values{"query": {q}}
	for k, v := range extra {
		params[k] = v
	}
	data, err := apiGet(context.Background(), addr, "/api/v1/query", params)
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	var d queryData[T]
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("query %q: %v in %s", q, err, data)
	}
	return d.Result
}

// waitFor polls cond until it returns nil or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, within, err)
}

var errNoData = errors.New("no data yet")

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
