#!/bin/sh
# scenarios.sh: the load runs of docs/benchmarks.md, each against a freshly started local
# server (through bench.sh), then one markdown table of all of them.
#
#   cmd/parley-load/scenarios.sh [OUTDIR] [SCENARIO...]
#   cmd/parley-load/scenarios.sh OUTDIR issue17      # the shapes of issue 17 (what make bench runs)
#
# OUTDIR (default ./bench-results) receives one JSON file and one log per scenario. Without
# SCENARIO names every scenario runs (about 6 minutes). Extra parley-load flags for every run
# can be given in PARLEY_LOAD_FLAGS, e.g. PARLEY_LOAD_FLAGS="-interceptors lean".
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-bench-results}
[ $# -gt 0 ] && shift
mkdir -p "$out"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
export PARLEY_BENCH_BIN="$bin"
window=${PARLEY_BENCH_WINDOW:-20s}

scenario() {
	name=$1
	shift
	echo "== $name: $*"
	# shellcheck disable=SC2086
	sh "$root/cmd/parley-load/bench.sh" -duration "$window" -json "$out/$name.json" ${PARLEY_LOAD_FLAGS:-} "$@" \
		>"$out/$name.log" 2>&1 || echo "   (exit status $?: see $out/$name.log)"
	tail -n 16 "$out/$name.log"
}

all="1x10 1x20 1x50 1x150 10x4 audio-1x300"
# The shapes of issue 17 (make bench): 1 x 100, 1 x 20, one meeting of 4 all publishing, 1 x 250
# and audio only 1 x 300.
issue17="1x100 1x20 4x4 1x250 audio-1x300"
[ "${1:-}" = issue17 ] && shift && set -- $issue17 "$@"
[ $# -gt 0 ] && all="$*"
for s in $all; do
	case $s in
	1x10) scenario "$s" -meetings 1 -publishers 1 -subscribers 10 ;;
	1x20) scenario "$s" -meetings 1 -publishers 1 -subscribers 20 ;;
	1x50) scenario "$s" -meetings 1 -publishers 1 -subscribers 50 ;;
	1x100) scenario "$s" -meetings 1 -publishers 1 -subscribers 100 -ramp 25 ;;
	1x150) scenario "$s" -meetings 1 -publishers 1 -subscribers 150 -ramp 25 ;;
	10x4) scenario "$s" -meetings 10 -publishers 4 -subscribers 0 ;;
	4x4) scenario "$s" -meetings 1 -publishers 4 -subscribers 0 -ramp 10 ;;
	1x250) scenario "$s" -meetings 1 -publishers 1 -subscribers 250 -ramp 25 ;;
	audio-1x300) scenario "$s" -meetings 1 -publishers 1 -subscribers 300 -audio-only -ramp 40 ;;
	*) echo "unknown scenario $s" >&2; exit 2 ;;
	esac
done

go build -o "$bin/parley-load" "$root/cmd/parley-load"
files=
for s in $all; do
	[ -f "$out/$s.json" ] && files="$files $out/$s.json"
done
# shellcheck disable=SC2086
"$bin/parley-load" summarize $files
