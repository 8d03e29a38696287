# otelcol-goruntime: `make run` starts the collector on the embedded store,
# `make test` runs every test. See README.md.

GO       ?= go
TOOL     := $(GO) tool -modfile=tools.mod
BIN      := bin/otelcol-goruntime
MODULE   := github.com/otelcol-goruntime/otelcol-goruntime
COMPONENTS := receiver/goruntimereceiver processor/tenantprocessor exporter/tsdbexporter
# Hand-written Go files: generated ones are left exactly as the generators write them.
GOFILES   = $(shell git ls-files -co --exclude-standard '*.go' | grep -v '/generated_' | grep -v '^distribution/' | grep -v '^bench/agent/reference/' | grep -v '^bench/expvarref/reference/')
FUZZTIME ?= 10s
BENCHTIME ?= 1s
BENCHCOUNT ?= 6

.PHONY: all run demo build generate tidy fmt check lint test test-deps unit e2e fuzz bench bench-contrib bench-agent bench-scrape clean

all: build

## build: compile the distribution into bin/otelcol-goruntime
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./distribution

## run: build if needed and start the collector with config/default.yaml
run: build
	@echo "otelcol-goruntime: data in ./data/tsdb, Prometheus query API at http://127.0.0.1:9480 (try: curl 'http://127.0.0.1:9480/api/v1/query?query=go_goroutine_count')"
	./$(BIN) --config config/default.yaml

## demo: start three demo services and the collector scraping them (config/demo.yaml)
demo: build
	$(GO) build -o bin/demoservice ./examples/demoservice
	@echo "demo services on 127.0.0.1:6061-6063; query API at http://127.0.0.1:9480"
	@trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	./bin/demoservice -listen 127.0.0.1:6061 -gc-every 2s > /dev/null & \
	./bin/demoservice -listen 127.0.0.1:6062 -leak-per-second 2 > /dev/null & \
	./bin/demoservice -listen 127.0.0.1:6063 -burst-after 60s -burst-bytes 268435456 -alloc-bytes-per-second 33554432 > /dev/null & \
	./$(BIN) --config config/demo.yaml

## generate: regenerate component metadata (mdatagen) and the distribution (ocb)
generate:
	@for c in $(COMPONENTS); do echo "mdatagen $$c"; $(TOOL) mdatagen $$c/metadata.yaml || exit 1; done
	$(TOOL) builder --skip-compilation --skip-get-modules --config builder-config.yaml
	$(TOOL) goimports -local $(MODULE) -w distribution/*.go
	cd bench/agent && $(GO) tool -modfile=../../tools.mod builder --skip-compilation --skip-get-modules --config builder-config.yaml
	$(TOOL) goimports -w bench/agent/reference/*.go
	cd bench/expvarref && $(GO) tool -modfile=../../tools.mod builder --skip-compilation --skip-get-modules --config builder-config.yaml
	$(TOOL) goimports -w bench/expvarref/reference/*.go

## tidy: tidy go.mod (tools.mod is changed only by `go get -modfile=tools.mod -tool`)
tidy:
	$(GO) mod tidy
	cd internal/statusutil && $(GO) mod tidy

## fmt: format hand-written Go files (gofumpt, goimports)
fmt:
	@$(TOOL) gofumpt -w $(GOFILES)
	@$(TOOL) goimports -local $(MODULE) -w $(GOFILES)

## check: regenerate, tidy and format; fail if anything changed
check: generate tidy fmt
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "make check: generated, tidied or formatted files differ from the commit:"; \
		git status --porcelain; git --no-pager diff --stat; exit 1; \
	fi
	@echo "make check: no drift"

## lint: golangci-lint with .golangci.yml
lint:
	$(TOOL) golangci-lint run ./...

## test-deps: install the peers the tests run (Debian packages) when missing
test-deps:
	@missing=; \
	command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v victoria-metrics >/dev/null 2>&1 || missing="$$missing victoria-metrics"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v perl >/dev/null 2>&1 || missing="$$missing perl-base"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages for the end-to-end tests:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## test: every test: unit (race detector), end to end against the built binary, and short fuzzing
test: test-deps build
	cd internal/statusutil && $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz
	OTELCOL_GORUNTIME_BIN=$(BIN) $(TOOL) gotestsum --format pkgname-and-test-fails -- -race -count=1 ./...

## unit: the tests without the end-to-end package
unit:
	$(TOOL) gotestsum --format pkgname-and-test-fails -- -race -count=1 $$($(GO) list ./... | grep -v /test/e2e)

## e2e: only the end-to-end tests
e2e: test-deps build
	OTELCOL_GORUNTIME_BIN=$(BIN) $(GO) test -count=1 -v ./test/e2e/...

## fuzz: run every fuzz target for FUZZTIME
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh

## bench: run the benchmarks (BENCHCOUNT times each, for benchstat)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./... | tee bench.out

## bench-contrib: go_runtime against contrib's prometheus receiver (own module, see docs/BENCHMARKS.md)
# Every measurement in a process of its own, six rounds alternating the
# receivers (bench/contribreceiver/run.sh); benchstat's columns give the ratios.
bench-contrib:
	bench/contribreceiver/run.sh $(CURDIR)/bench-contrib.out
	$(GO) tool -modfile=tools.mod benchstat -col '/receiver@(contrib_prometheus contrib_prometheus_protobuf go_runtime http_floor raw_floor)' bench-contrib.out
	$(GO) tool -modfile=tools.mod benchstat -col '/receiver@(contrib_prometheus_protobuf go_runtime)' -filter '/target:client_golang' bench-contrib.out

## bench-agent: the whole agent against a reference collector from upstream components (docs/BENCHMARKS.md)
bench-agent: build
	@command -v victoria-metrics >/dev/null 2>&1 || $(MAKE) --no-print-directory test-deps
	cd bench/agent && $(GO) build -o bin/otelcol-reference ./reference && $(GO) build -o bin/targets ./targets && $(GO) build -o bin/harness ./harness
	cd bench/agent && ./bin/harness -targets 200 -warmup 20s -measure 60s -names-dir bin | tee ../../bench-agent.out

## bench-scrape: 200 targets, scrape only (debug exporter): go_runtime against contrib's prometheus and expvar receivers, as processes
bench-scrape: build
	cd bench/agent && $(GO) build -o bin/otelcol-reference ./reference && $(GO) build -o bin/targets ./targets && $(GO) build -o bin/harness ./harness
	cd bench/expvarref && $(GO) build -o bin/otelcol-expvar-reference ./reference
	cd bench/agent && ./bin/harness -scrape-only -targets 200 -warmup 20s -measure 60s | tee ../../bench-scrape.out
	cd bench/agent && ./bin/harness -scrape-only -expvar -targets 200 -warmup 60s -measure 60s -rounds 5 | tee -a ../../bench-scrape.out

clean:
	rm -rf bin bench.out bench-contrib.out bench-agent.out bench-scrape.out bench/agent/bin bench/expvarref/bin
