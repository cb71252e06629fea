#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Prints the medians of a Google Benchmark JSON file (written with
# --benchmark_repetitions=N --benchmark_out=FILE --benchmark_out_format=json)
# as a Markdown table: name, median wall-clock and CPU time per iteration, the
# coefficient of variation of the time the benchmark is judged by (wall clock
# for names ending in real_time or manual_time, else CPU time) across the
# repetitions, and the user counters. Needs jq (Debian package jq).
#
# usage: scripts/bench_table.sh FILE.json
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 FILE.json" >&2; exit 2; }
[ -f "$1" ] || { echo "$0: no such file: $1" >&2; exit 2; }
command -v jq >/dev/null || { echo "$0: needs jq (apt-get install jq)" >&2; exit 2; }

jq -r '
  def num: if . == null then "" elif . >= 100 then (. | round | tostring)
           else ((. * 1000 | round) / 1000 | tostring) end;
  def known: ["name", "family_index", "per_family_instance_index", "run_name", "run_type",
              "repetitions", "threads", "aggregate_name", "aggregate_unit", "iterations",
              "real_time", "cpu_time", "time_unit", "label", "repetition_index",
              "error_occurred", "error_message"];
  [.benchmarks[] | select(.run_type == "aggregate")] as $all
  | ($all | map(select(.aggregate_name == "median"))
     | sort_by(.family_index, .per_family_instance_index)) as $medians
  | ($medians | map(to_entries | map(select(.key as $k | known | index($k) | not)) | map(.key))
     | add // [] | unique) as $counters
  | ($counters | map(" | " + .) | join("")) as $head
  | "| benchmark | median wall time | median CPU time | cv" + $head + " |",
    "|---|---:|---:|---:" + ($counters | map("|---:") | join("")) + "|",
    ($medians[]
     | . as $m
     | (if (.run_name | test("(real|manual)_time$")) then "real_time" else "cpu_time" end) as $judged
     | ($all | map(select(.run_name == $m.run_name and .aggregate_name == "cv"))[0][$judged]) as $cv
     | "| \(.run_name) | \(.real_time | num) \(.time_unit) | \(.cpu_time | num) \(.time_unit) | "
       + (if $cv == null then "" else "\($cv * 100 | round)%" end)
       + ($counters | map(. as $c | " | " + ($m[$c] | num)) | join("")) + " |")
' "$1"
