# SPDX-License-Identifier: Apache-2.0 OR MIT
# Shared by the stages that cross-build and run the tests under an emulator
# (cross.sh: qemu-user; windows.sh: Wine). Sourced, not run.

# emulated_build <build dir> <toolchain file> [cmake arguments...]
# Configures and builds the library, the probe and the tests only: no
# benchmarks or examples, and no packaging tests (the native build has them).
# -O1: optimised code for a quarter less compile time than -O3 (the code check
# of light() compiles its object at -O2 itself).
emulated_build() {
  local dir=$1 toolchain=$2
  shift 2
  mkdir -p "$dir"
  if ! cmake -S . -B "$dir" -G Ninja --toolchain "$PWD/$toolchain" \
      -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS=-O1 -DCMAKE_CXX_FLAGS=-O1 \
      -DASYMFENCE_BUILD_TESTS=ON -DASYMFENCE_BUILD_TOOLS=ON \
      -DASYMFENCE_BUILD_BENCHMARKS=OFF -DASYMFENCE_BUILD_EXAMPLES=OFF \
      -DASYMFENCE_INSTALL=OFF "$@" >"$dir/configure.log" 2>&1; then
    cat "$dir/configure.log"
    return 1
  fi
  cmake --build "$dir" -j 2
}

# emulated_test <build dir> [ctest arguments...]
# Runs ctest, then prints every test that did not run with the reason it gave.
emulated_test() {
  local dir=$1
  shift
  local status=0
  ctest --test-dir "$dir" -j 2 --timeout 300 --output-on-failure "$@" || status=$?
  echo "--- skipped, with the reason each test printed ---"
  # A GoogleTest skip prints "<file>:<line>: Skipped", the reason, then
  # "[  SKIPPED ] <test>".
  awk '/: Skipped$/ { grab = 1; reason = ""; next }
       grab && /^\[  SKIPPED \]/ { printf "  %s: %s\n", $4, reason; grab = 0; skipped++; next }
       grab { reason = reason (reason == "" ? "" : " ") $0 }
       END { if (!skipped) print "  (none)" }' "$dir/Testing/Temporary/LastTest.log"
  return "$status"
}
