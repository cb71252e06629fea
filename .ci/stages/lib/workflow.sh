# SPDX-License-Identifier: Apache-2.0 OR MIT
# shellcheck shell=bash
# Shared by the stages that run a CMake workflow preset (checked.sh,
# shared.sh, sanitizers.sh). Sourced, not run.

# install_workflow_packages: what configuring, building and testing the
# project needs on a bare Debian machine (scripts/install-deps.sh; the
# sanitizer runtimes come with g++), and python3 for preset_environment.
install_workflow_packages() {
  scripts/install-deps.sh python3 >/dev/null
}

# Sanitizer reports land here (log_path in the test presets of CMakePresets.json).
sanitizer_reports() {
  echo "build/$1/sanitizer-report"
}

# print_sanitizer_reports <preset>: prints every sanitizer report of the last
# test run; fails if there is any. ASan, LSan and TSan write theirs to files
# (also from child processes). g++'s UBSan runtime ignores log_path when ASan
# is linked, so its reports are found in the test log; in a child process
# they also stop the child (-fno-sanitize-recover), which its test sees.
print_sanitizer_reports() {
  local found=0 report log="build/$1/Testing/Temporary/LastTest.log"
  for report in "$(sanitizer_reports "$1")".*; do
    [[ -e $report ]] || continue
    found=1
    echo "--- sanitizer report: ${report}"
    cat "$report"
  done
  if [[ -f $log ]] && grep -q 'runtime error:' "$log"; then
    found=1
    echo "--- UndefinedBehaviorSanitizer reports in ${log}:"
    grep -B2 -A8 'runtime error:' "$log"
  fi
  return "$found"
}

# run_workflow <preset>: `cmake --workflow --preset <preset>` (configure,
# build, test), with its time; fails when it does or when a sanitizer wrote a
# report, even one from a child process whose test passed.
run_workflow() {
  local preset=$1 start=$SECONDS status=0
  rm -f "$(sanitizer_reports "$preset")".* "build/${preset}/Testing/Temporary/LastTest.log"
  echo "--- cmake --workflow --preset ${preset}"
  cmake --workflow --preset "$preset" || status=$?
  if ! print_sanitizer_reports "$preset"; then
    echo "${preset}: sanitizer reports above"
    status=1
  fi
  echo "--- ${preset}: $((SECONDS - start)) s (exit ${status})"
  return "$status"
}

# preset_environment <test preset>: the environment that test preset sets, one
# NAME=value a line, as ctest would see it.
preset_environment() {
  python3 - "$1" <<'PY'
import json, os, sys
preset = sys.argv[1]
for p in json.load(open("CMakePresets.json"))["testPresets"]:
    if p["name"] == preset:
        for name, value in p.get("environment", {}).items():
            value = value.replace("${sourceDir}", os.getcwd()).replace("${presetName}", preset)
            print(f"{name}={value}")
PY
}
