#!/usr/bin/env bash
# Recaptures the go_runtime receiver's golden fixtures: builds the fixture
# service (receiver/goruntimereceiver/testdata/fixtureservice) with each Go
# release below (the go command fetches old toolchains through the module
# proxy), runs it on loopback, and saves what it serves to
# receiver/goruntimereceiver/testdata/fixtures/<go version>/.
# After recapturing, regenerate the golden files:
#   go test ./receiver/goruntimereceiver/ -run TestFixtureGolden -update
set -euo pipefail
cd "$(dirname "$0")/.."

versions=(${GO_VERSIONS:-go1.22.12 go1.24.11 go1.26.8})
src=receiver/goruntimereceiver/testdata/fixtureservice
out=receiver/goruntimereceiver/testdata/fixtures
bin=$(mktemp -d)
trap 'rm -rf "$bin"; kill $(jobs -p) 2>/dev/null || true' EXIT

for v in "${versions[@]}"; do
	echo "== $v"
	(cd "$src" && GOTOOLCHAIN="$v" GOFLAGS=-mod=mod go build -o "$bin/fixtureservice-$v" .)
	"$bin/fixtureservice-$v" -listen 127.0.0.1:0 > "$bin/$v.out" &
	pid=$!
	for _ in $(seq 50); do
		addr=$(sed -n 's/^listening on //p' "$bin/$v.out")
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { echo "fixture service $v did not start"; exit 1; }
	sleep 0.5 # let the blocked goroutines block
	mkdir -p "$out/$v"
	curl -fsS "http://$addr/debug/vars" > "$out/$v/debug_vars.json"
	curl -fsS "http://$addr/metrics" > "$out/$v/metrics.txt"
	curl -fsS "http://$addr/metrics-all" > "$out/$v/metrics_all.txt"
	curl -fsS "http://$addr/debug/pprof/goroutine?debug=2" > "$out/$v/goroutine_debug2.txt"
	curl -fsS "http://$addr/debug/pprof/goroutine?debug=1" > "$out/$v/goroutine_debug1.txt"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	ls -l "$out/$v"
done
