// Command demoservice is a Go service with controllable runtime behaviour,
// for trying otelcol-goruntime and for its end-to-end tests. It blocks known
// numbers of goroutines on channels, selects, mutexes and sleeps, leaks
// goroutines at a known rate from a known function, allocates at a known
// rate, holds a live heap, can allocate a burst after a delay, and serves
// /debug/vars, /metrics and /debug/pprof/.
package main

import (
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" //nolint:gosec // the demo serves pprof on purpose, on loopback by default
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type options struct {
	listen         string
	chanWaiters    int
	selectWaiters  int
	mutexWaiters   int
	sleepers       int
	leakPerSecond  float64
	allocPerSecond int
	liveHeap       int
	burstAfter     time.Duration
	burstBytes     int
	gcEvery        time.Duration
	expvarOnly     bool
	metricsOnly    bool
	runtimeMetrics bool
}

func main() {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:6060", "address to serve on; port 0 picks one, printed as 'listening on ADDR'; none serves nothing")
	flag.IntVar(&o.chanWaiters, "chan-waiters", 10, "goroutines blocked in a channel receive")
	flag.IntVar(&o.selectWaiters, "select-waiters", 5, "goroutines blocked in a select")
	flag.IntVar(&o.mutexWaiters, "mutex-waiters", 3, "goroutines blocked on a locked sync.Mutex")
	flag.IntVar(&o.sleepers, "sleepers", 4, "goroutines in time.Sleep")
	flag.Float64Var(&o.leakPerSecond, "leak-per-second", 0, "goroutines leaked per second from leakyWorker")
	flag.IntVar(&o.allocPerSecond, "alloc-bytes-per-second", 1<<20, "bytes allocated (and dropped) per second")
	flag.IntVar(&o.liveHeap, "live-heap-bytes", 8<<20, "bytes held live for the process's lifetime")
	flag.DurationVar(&o.burstAfter, "burst-after", 0, "allocate -burst-bytes once after this delay (0: never)")
	flag.IntVar(&o.burstBytes, "burst-bytes", 64<<20, "size of the allocation burst")
	flag.DurationVar(&o.gcEvery, "gc-every", 0, "run runtime.GC this often (0: leave GC to the runtime)")
	flag.BoolVar(&o.expvarOnly, "expvar-only", false, "serve only /debug/vars")
	flag.BoolVar(&o.metricsOnly, "metrics-only", false, "serve only /metrics")
	flag.BoolVar(&o.runtimeMetrics, "runtime-metrics", true, "/metrics carries all runtime/metrics (WithGoCollectorRuntimeMetrics)")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// live keeps the live heap reachable.
var (
	liveMu sync.Mutex
	live   [][]byte
)

func hold(b []byte) {
	liveMu.Lock()
	live = append(live, b)
	liveMu.Unlock()
}

// sink keeps allocations on the heap; only the allocating goroutine and
// expvar read it, through lastAlloc.
var (
	sink      []byte
	lastAlloc atomic.Int64
)

var leaked = expvar.NewInt("demo_leaked_goroutines")

func init() {
	expvar.Publish("demo_live_heap_chunks", expvar.Func(func() any {
		liveMu.Lock()
		defer liveMu.Unlock()
		return len(live)
	}))
	expvar.Publish("demo_last_allocation_bytes", expvar.Func(func() any { return lastAlloc.Load() }))
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	block(o)
	for i := 0; i < o.liveHeap; i += 1 << 20 {
		hold(make([]byte, min(1<<20, o.liveHeap-i)))
	}
	go allocate(ctx, o.allocPerSecond)
	if o.leakPerSecond > 0 {
		go leak(ctx, o.leakPerSecond)
	}
	if o.burstAfter > 0 {
		time.AfterFunc(o.burstAfter, func() { hold(make([]byte, o.burstBytes)) })
	}
	if o.gcEvery > 0 {
		go func() {
			t := time.NewTicker(o.gcEvery)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					runtime.GC()
				}
			}
		}()
	}

	mux := http.NewServeMux()
	if !o.metricsOnly {
		mux.Handle("/debug/vars", expvar.Handler())
	}
	if !o.expvarOnly && !o.metricsOnly {
		mux.Handle("/debug/pprof/", http.DefaultServeMux)
	}
	if !o.expvarOnly {
		reg := prometheus.NewRegistry()
		goCollector := collectors.NewGoCollector()
		if o.runtimeMetrics {
			goCollector = collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll))
		}
		reg.MustRegister(goCollector, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })

	if o.listen == "none" {
		// A Go service with no HTTP endpoint at all.
		fmt.Println("listening on none")
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// block starts the goroutines that wait forever in known states; each kind
// has its own creating function, so dumps count them exactly by creator.
func block(o options) {
	never := make(chan struct{})
	spawnChanWaiters(o.chanWaiters, never)
	spawnSelectWaiters(o.selectWaiters, never)
	var mu sync.Mutex
	mu.Lock() // held for the process's lifetime
	spawnMutexWaiters(o.mutexWaiters, &mu)
	spawnSleepers(o.sleepers)
}

func spawnChanWaiters(n int, never chan struct{}) {
	for range n {
		go chanWaiter(never)
	}
}

func spawnSelectWaiters(n int, never chan struct{}) {
	for range n {
		go selectWaiter(never)
	}
}

func spawnMutexWaiters(n int, mu *sync.Mutex) {
	for range n {
		go mutexWaiter(mu)
	}
}

func spawnSleepers(n int) {
	for range n {
		go sleeper()
	}
}

func chanWaiter(c chan struct{}) { <-c }

func selectWaiter(c chan struct{}) {
	other := make(chan struct{})
	select {
	case <-c:
	case <-other:
	}
}

func mutexWaiter(mu *sync.Mutex) {
	mu.Lock()
	mu.Unlock() //nolint:staticcheck // never reached: the demo holds the lock
}

func sleeper() {
	for {
		time.Sleep(time.Hour)
	}
}

// leak starts leakyWorker goroutines that never end, perSecond of them a
// second.
func leak(ctx context.Context, perSecond float64) {
	t := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			go leakyWorker(make(chan int))
			leaked.Add(1)
		}
	}
}

// leakyWorker waits for a result nobody sends: the leak the demo shows.
func leakyWorker(results chan int) { <-results }

// allocate allocates bytesPerSecond in 10 steps a second and drops it.
func allocate(ctx context.Context, bytesPerSecond int) {
	if bytesPerSecond <= 0 {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for i := 0; i < bytesPerSecond/10; i += 4096 {
				sink = make([]byte, 4096)
			}
			lastAlloc.Store(int64(len(sink)))
		}
	}
}
