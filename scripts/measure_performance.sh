#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Runs every benchmark of docs/performance.md on this machine and prints the
# figures as Markdown: the machine, the summary of the targets, the fast path,
# the slow path, and the concurrent callers (also rendered to
# docs/plots/concurrent_heavy.png). The JSON files go to docs/plots/.
#
# usage: scripts/measure_performance.sh [--build DIR] [--repetitions N] [--min-time S]
#   --build DIR       a Release build tree with benchmarks (default: build-bench)
#   --repetitions N   repetitions of each benchmark, randomly interleaved (default: 7)
#   --min-time S      seconds per repetition (default: 0.5)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
repetitions=7
min_time=0.5
. "$root/scripts/performance_common.sh"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) [ $# -ge 2 ] || die "--build needs a directory"; build=$2; shift 2 ;;
    --repetitions) [ $# -ge 2 ] || die "--repetitions needs a number"; repetitions=$2; shift 2 ;;
    --min-time) [ $# -ge 2 ] || die "--min-time needs seconds"; min_time=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
check_benchmark_options "$repetitions" "$min_time"
require_commands gnuplot:gnuplot-nox jq:jq lscpu:util-linux
bench="$build/bench"
for program in fast_path fast_path_checked slow_path concurrent summary; do
  [ -x "$bench/asymfence_bench_$program" ] ||
    die "$bench/asymfence_bench_$program is not built: configure a Release build with" \
        "benchmarks (cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release)," \
        "build it (ninja -C build-bench), or pass --build DIR"
done
out="$root/docs/plots"
mkdir -p "$out"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {  # run NAME [OUT]: one benchmark program, repetitions interleaved, medians to OUT.json
  local json="$out/${2:-$1}.json"
  if ! "$bench/asymfence_bench_$1" --benchmark_repetitions="$repetitions" \
      --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time" \
      --benchmark_report_aggregates_only=true \
      --benchmark_out="$json" --benchmark_out_format=json >"$log" 2>&1; then
    cat "$log" >&2
    die "asymfence_bench_$1 failed (its output is above)"
  fi
}

# The slow path once per usable strategy (a process selects its strategy once,
# so each is forced with ASYMFENCE_STRATEGY in a run of its own), merged into
# slow_path.json.
run_slow_path() {
  local strategy parts=()
  for strategy in $("$bench/asymfence_bench_slow_path" --list-strategies); do
    ASYMFENCE_STRATEGY=$strategy run slow_path "slow_path.$strategy"
    parts+=("$out/slow_path.$strategy.json")
  done
  [ ${#parts[@]} -gt 0 ] || die "asymfence_bench_slow_path --list-strategies listed no strategy"
  jq -s '.[0] + {benchmarks: map(.benchmarks[])}' "${parts[@]}" >"$out/slow_path.json"
  rm -f "${parts[@]}"
}

echo "## Machine"
echo
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
cpu_family=$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
hypervisor=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p')
if grep -qw hypervisor /proc/cpuinfo; then
  where="under a hypervisor${hypervisor:+ ($hypervisor)}"
else
  where="bare metal"
fi
echo "- $(nproc) CPUs, $cpu_model (family $cpu_family), $where"
echo "- Linux $(uname -r), $(g++ --version 2>/dev/null | head -1)"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## Summary of the targets"
echo
echo '```'
"$bench/asymfence_bench_summary"
echo '```'
for program in fast_path fast_path_checked slow_path; do
  if [ "$program" = slow_path ]; then run_slow_path; else run "$program"; fi
  echo
  echo "## $program"
  echo
  "$root/scripts/bench_table.sh" "$out/$program.json"
done
run concurrent
echo
echo "## concurrent"
echo
"$root/scripts/plot_performance.sh" --from "$out/concurrent.json"
echo
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
