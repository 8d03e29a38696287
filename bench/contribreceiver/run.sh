#!/usr/bin/env bash
# Runs BenchmarkScrapeCPU for every target and receiver, each measurement
# in a process of its own (so nothing one receiver leaves running or
# allocated is charged to another), over ROUNDS rounds that alternate the
# receivers (so the machine's drift spreads over all of them alike), and
# writes the results to $1 for benchstat.
set -euo pipefail
out=${1:?usage: run.sh OUTPUT}
rounds=${ROUNDS:-6}
scrapes=${SCRAPES:-500}
go=${GO:-go}
cd "$(dirname "$0")"
"$go" test -c -o contribreceiver.test .
: >"$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq "$rounds"); do
	for target in fixture_text client_golang; do
		for receiver in http_floor raw_floor contrib_prometheus contrib_prometheus_protobuf go_runtime; do
			./contribreceiver.test -test.run '^$' -test.benchtime "${scrapes}x" \
				-test.bench "ScrapeCPU/target=$target/receiver=$receiver\$" >"$log"
			grep "^Benchmark" "$log"
			cat "$log" >>"$out"
		done
	done
	echo "round $round of $rounds done"
done
