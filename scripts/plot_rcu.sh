#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Renders docs/plots/rcu.png: asymfence's RCU relative to liburcu-memb (above
# 1 is better for asymfence) for the read section, rcu_synchronize with 1 and
# 4 callers, and retire then barrier, from the output of asymfence_bench_rcu,
# which it keeps as docs/plots/rcu_bench.txt.
#
# usage: scripts/plot_rcu.sh [--build DIR] [--from FILE]
#   --build DIR   build tree holding bench/asymfence_bench_rcu (default: build/dev)
#   --from FILE   plot an existing output of asymfence_bench_rcu instead of running it
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/dev"
from=""
out_dir="$root/docs/plots"

. "$root/scripts/performance_common.sh"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) [ $# -ge 2 ] || die "--build needs a directory"; build=$2; shift 2 ;;
    --from) [ $# -ge 2 ] || die "--from needs a file"; from=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
require_commands gnuplot:gnuplot-nox

mkdir -p "$out_dir"
text="$out_dir/rcu_bench.txt"
if [ -n "$from" ]; then
  [ "$from" -ef "$text" ] || cp "$from" "$text"
else
  program="$build/bench/asymfence_bench_rcu"
  [ -x "$program" ] || die "$program not found: build the target asymfence_bench_rcu first"
  "$program" | tee "$text"
fi
grep -q "liburcu-memb" "$text" || die "$text has no liburcu-memb figures: build with liburcu-dev installed"

# One line per measure: label and asymfence relative to liburcu-memb.
data=$(mktemp)
trap 'rm -f "$data"' EXIT
awk '
  function ratio(   i, r) { for (i = 1; i < NF; ++i) if ($i == "ratio") r = $(i + 1); sub(/x$/, "", r); return r }
  /^  asymfence  /          { read_ours = $2 }
  /^  liburcu-memb  /       { printf "\"read section (1/time)\" %.3f\n", $2 / read_ours }
  / callers? .*liburcu/     { printf "\"sync, %d caller%s\" %s\n", $1, $1 == 1 ? "" : "s", ratio() }
  /retire \+ rcu_barrier/   { printf "\"retire + barrier\" %s\n", ratio() }
' "$text" >"$data"
[ "$(wc -l <"$data")" -eq 4 ] || die "could not read the four figures from $text"

gnuplot <<GNUPLOT
set terminal pngcairo size 900,450 noenhanced
set output "$out_dir/rcu.png"
set title "asymfence RCU relative to liburcu-memb 0.13 (above 1: asymfence is faster)"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set offsets 0,0,0.2,0
set ylabel "ratio"
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2
plot "$data" using 0:2:xtic(1) with boxes notitle, "" using 0:2:(sprintf("%.2fx", \$2)) with labels offset 0,1 notitle
GNUPLOT
echo "wrote $out_dir/rcu.png"
