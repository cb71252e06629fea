#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Renders docs/plots/concurrent_heavy.png: completed heavy() calls per second
# against the number of concurrent callers, asymfence beside one raw system
# call per call, from the JSON output of asymfence_bench_concurrent. Prints
# the medians as a Markdown table for docs/performance.md.
#
# usage: scripts/plot_performance.sh [--build DIR] [--from JSON] [--repetitions N] [--min-time S]
#   --build DIR        build tree holding bench/asymfence_bench_concurrent (default: build-bench)
#   --from JSON        plot an existing benchmark JSON file instead of running the benchmark
#   --repetitions N    repetitions of each case, run in random interleaved order (default: 7)
#   --min-time S       seconds per repetition (default: 0.5)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
from=""
repetitions=7
min_time=0.5
out_dir="$root/docs/plots"

. "$root/scripts/performance_common.sh"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) [ $# -ge 2 ] || die "--build needs a directory"; build=$2; shift 2 ;;
    --from) [ $# -ge 2 ] || die "--from needs a file"; from=$2; shift 2 ;;
    --repetitions) [ $# -ge 2 ] || die "--repetitions needs a number"; repetitions=$2; shift 2 ;;
    --min-time) [ $# -ge 2 ] || die "--min-time needs seconds"; min_time=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
check_benchmark_options "$repetitions" "$min_time"

# gnuplot and jq come from Debian; install them where they are missing.
require_commands gnuplot:gnuplot-nox jq:jq

mkdir -p "$out_dir"
json="$out_dir/concurrent.json"
if [ -n "$from" ]; then
  [ -f "$from" ] || die "no such file: $from"
  [ "$(realpath "$from")" = "$(realpath -m "$json")" ] || cp "$from" "$json"
else
  bench="$build/bench/asymfence_bench_concurrent"
  [ -x "$bench" ] ||
    die "$bench is not built: configure with -DASYMFENCE_BUILD_BENCHMARKS=ON, build, or pass --build DIR"
  "$bench" --benchmark_repetitions="$repetitions" --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$min_time" --benchmark_report_aggregates_only=true \
    --benchmark_out="$json" --benchmark_out_format=json >&2
fi

# One row per number of callers: callers, heavy calls/s, raw calls/s, heavy
# calls per barrier, slowest thread's share (heavy, raw).
data=$(mktemp)
trap 'rm -f "$data"' EXIT
jq -r '
  [.benchmarks[] | select(.aggregate_name == "median")
   | (.run_name | capture("concurrent/(?<kind>[a-z]+)/callers:(?<callers>[0-9]+)")) as $m
   | {kind: $m.kind, callers: ($m.callers | tonumber), rate: .items_per_second,
      sharing: (.calls_per_barrier // 1), slowest: .slowest_thread_share}]
  | group_by(.callers)[]
  | {callers: .[0].callers,
     heavy: (map(select(.kind == "heavy"))[0]), raw: (map(select(.kind == "raw"))[0])}
  | select(.heavy != null and .raw != null)
  | "\(.callers) \(.heavy.rate) \(.raw.rate) \(.heavy.sharing) \(.heavy.slowest) \(.raw.slowest)"
  ' "$json" > "$data"
[ -s "$data" ] || die "$json holds no median of concurrent/heavy and concurrent/raw"

strategy=$(jq -r '[.benchmarks[] | select(.run_name | startswith("concurrent/heavy")) | .label][0]
                  // "unknown"' "$json")
cpus=$(jq -r '.context.num_cpus' "$json")

gnuplot <<GNUPLOT
set terminal pngcairo size 800,500 font "sans,10" noenhanced
set output "$out_dir/concurrent_heavy.png"
set title "Concurrent heavy barriers: $strategy, $cpus CPUs"
set xlabel "threads calling in a loop"
set ylabel "completed calls per second (median)"
set logscale x 2
set xrange [0.8:20]
set xtics (1, 2, 4, 8, 16)
# Logarithmic: one caller (no other CPU to interrupt) and many callers (an
# IPI per barrier) differ by an order of magnitude.
set logscale y 10
set key top right
set grid
plot "$data" using 1:2 with linespoints lw 2 pt 7 title "asymfence heavy() (shared barriers)", \
     "$data" using 1:3 with linespoints lw 2 pt 5 title "raw $strategy, one system call per call"
GNUPLOT

echo "| callers | heavy() calls/s | raw calls/s | heavy / raw | heavy calls per barrier" \
     "| slowest thread's share, heavy / raw |"
echo "|---:|---:|---:|---:|---:|---:|"
awk '{ printf "| %d | %.0f | %.0f | %.2f | %.2f | %.2f / %.2f |\n", $1, $2, $3, $2 / $3, $4, $5, $6 }' "$data"
echo "plot: $out_dir/concurrent_heavy.png (data: $json)" >&2
