#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# CI stage: the whole unit suite (benchmarks excluded) under AddressSanitizer +
# UndefinedBehaviorSanitizer, then under ThreadSanitizer, with g++ and no
# recovery. Fails on any failing test and on any sanitizer report, including
# reports from child processes whose test passed. Before trusting "no
# report", it proves that the test binaries carry the sanitizer runtime and
# that a planted bug, run with the test preset's environment, leaves a report
# where this stage looks.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/stages/lib/workflow.sh

install_workflow_packages

# plant_bug <preset> <runtime library> <kind>...: builds a small program
# with the preset's flags and runs each kind of bug in it with the test
# preset's environment. ASan and TSan must leave a report file where
# print_sanitizer_reports looks; UBSan (see print_sanitizer_reports) must
# print its report and stop the program.
plant_bug() {
  local preset=$1 runtime=$2 build="build/$1" kind status=0 output
  shift 2
  if ! ldd "$build/tests/asymfence_checked_light_test" | grep -q "$runtime"; then
    echo "${preset}: the test binaries are not linked with ${runtime}"
    return 1
  fi
  local flags
  flags=$(sed -n 's/^CMAKE_CXX_FLAGS:STRING=//p' "$build/CMakeCache.txt")
  cat >"$build/planted_bug.cpp" <<'CPP'
#include <climits>
#include <cstring>
#include <thread>
int racy = 0;
int main(int argc, char** argv) {
  if (std::strcmp(argv[1], "heap-overflow") == 0) {
    int* p = new int[argc];
    int v = p[argc];
    delete[] p;
    return v * 0;
  }
  if (std::strcmp(argv[1], "signed-overflow") == 0) {
    volatile int big = INT_MAX - 1 + argc;
    return big * 0;
  }
  std::thread other([] { ++racy; });
  ++racy;
  other.join();
  return 0;
}
CPP
  # shellcheck disable=SC2086  # the flags are several words
  g++ -std=c++17 $flags -g -pthread "$build/planted_bug.cpp" -o "$build/planted_bug"
  local environment
  mapfile -t environment < <(preset_environment "$preset")
  for kind in "$@"; do
    rm -f "$(sanitizer_reports "$preset")".*
    if output=$(env "${environment[@]}" "$build/planted_bug" "$kind" 2>&1); then
      echo "${preset}: the planted ${kind} did not stop the program"
      status=1
    elif [[ $kind == signed-overflow ]]; then
      if [[ $output == *"runtime error:"* ]]; then
        echo "${preset}: planted ${kind} reported, as it must be"
      else
        echo "${preset}: the planted ${kind} printed no report: ${output}"
        status=1
      fi
    elif print_sanitizer_reports "$preset" >/dev/null; then
      echo "${preset}: the planted ${kind} left no report in $(sanitizer_reports "$preset").*"
      status=1
    else
      echo "${preset}: planted ${kind} reported, as it must be"
    fi
    rm -f "$(sanitizer_reports "$preset")".*
  done
  return "$status"
}

status=0
run_workflow asan-ubsan || status=1
plant_bug asan-ubsan libasan heap-overflow signed-overflow || status=1
run_workflow tsan || status=1
plant_bug tsan libtsan data-race || status=1
exit "$status"
