#!/bin/sh
# bench.sh: a short load run against a freshly started local server, for `make bench`.
#
# Builds cmd/parley and cmd/parley-load, starts the server on 127.0.0.1 with -loopback-only,
# runs the load generator against it (media stays on loopback), prints the table and stops the
# server. Extra arguments go to parley-load and override the defaults below, e.g.
#   cmd/parley-load/bench.sh -subscribers 150 -duration 30s -json /tmp/run.json
# Environment: PARLEY_BENCH_PORT (HTTP port, default 18080), PARLEY_BENCH_BIN (where to build,
# default a temporary directory), PARLEY_BENCH_SERVER_ARGS (more server flags, e.g.
# "-cpuprofile /tmp/server.prof -batch-writes=false").
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
port=${PARLEY_BENCH_PORT:-18080}
bin=${PARLEY_BENCH_BIN:-}
cleanup_bin=
if [ -z "$bin" ]; then
	bin=$(mktemp -d)
	cleanup_bin=$bin
fi

cd "$root"
go build -o "$bin/parley" ./cmd/parley
go build -o "$bin/parley-load" ./cmd/parley-load

# Joins and creations are limited per client address; parley-load gives each client its own
# 127.x address (-spread-sources), and the limits are raised for runs without it.
"$bin/parley" -listen "127.0.0.1:$port" -loopback-only -udp-port 0 -max-participants 1000 -log-level error \
	-joins-per-minute 100000 -meeting-joins-per-minute 100000 -creates-per-minute 10000 -max-conns-per-addr 100000 \
	-addr-request-rate 100000 -meeting-request-rate 100000 ${PARLEY_BENCH_SERVER_ARGS:-} &
server=$!
stop() {
	kill "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
	if [ -n "$cleanup_bin" ]; then rm -rf "$cleanup_bin"; fi
}
trap stop EXIT INT TERM

"$bin/parley-load" -url "http://127.0.0.1:$port" -wait-ready 15s \
	-server-pid "$server" -metrics-url "http://127.0.0.1:$port/metrics" \
	-meetings 1 -publishers 1 -subscribers 20 -duration 10s -ramp 20 "$@"
