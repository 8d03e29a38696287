// Command targets serves N client_golang /metrics endpoints, each on its
// own loopback port with its own registry holding the Go collector with
// every runtime metric and the process collector: N scrape targets of the
// kind a fleet of Go services exposes, at the cost of one process. With
// -expvar each serves /debug/vars instead. It prints the addresses, one per
// line, then "ready".
package main

import (
	"expvar"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	n := flag.Int("n", 200, "number of targets")
	expvarOnly := flag.Bool("expvar", false, "serve /debug/vars (expvar) instead of /metrics")
	flag.Parse()
	for range *n {
		if *expvarOnly {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println(ln.Addr())
			mux := http.NewServeMux()
			mux.Handle("/debug/vars", expvar.Handler())
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			go func() { log.Fatal(srv.Serve(ln)) }()
			continue
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ln.Addr())
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
		go func() { log.Fatal(srv.Serve(ln)) }()
	}
	fmt.Println("ready")
	select {}
}
