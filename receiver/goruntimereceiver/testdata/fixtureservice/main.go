// Command fixtureservice serves the endpoints the go_runtime receiver reads
// (/debug/vars, /metrics with and without all runtime metrics, and
// /debug/pprof/) with a fixed set of blocked goroutines, so that responses
// from several Go releases can be captured as test fixtures. It is its own
// module with an old go directive, so it builds with old toolchains; see
// scripts/capture-fixtures.sh.
package main

import (
	"expvar"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	flag.Parse()

	never := make(chan struct{})
	var mu sync.Mutex
	mu.Lock()
	for i := 0; i < 6; i++ {
		go chanWaiter(never)
	}
	for i := 0; i < 4; i++ {
		go selectWaiter(never)
	}
	for i := 0; i < 2; i++ {
		go mutexWaiter(&mu)
	}
	go sleeper()
	expvar.NewInt("fixture_requests_total").Add(42)
	for i := 0; i < 20; i++ {
		runtime.GC()
	}

	plain := prometheus.NewRegistry()
	plain.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	all := prometheus.NewRegistry()
	all.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	http.Handle("/metrics", promhttp.HandlerFor(plain, promhttp.HandlerOpts{}))
	http.Handle("/metrics-all", promhttp.HandlerFor(all, promhttp.HandlerOpts{}))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

func chanWaiter(c chan struct{}) { <-c }

func selectWaiter(c chan struct{}) {
	other := make(chan struct{})
	select {
	case <-c:
	case <-other:
	}
}

func mutexWaiter(mu *sync.Mutex) { mu.Lock() }

func sleeper() {
	for {
		time.Sleep(time.Hour)
	}
}
