#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# CI stage: Windows (docs/platforms.md). Cross-builds the library, the probe and
# the portable tests with mingw-w64 (posix threads) and runs them under Wine,
# headless, in a throwaway prefix.
#
# Wine 8's FlushProcessWriteBuffers is a stub that does nothing: the library
# refuses it there and selects virtual_protect, which Wine maps to the host's
# mprotect. The store-buffering litmus runs with its control, and the
# interrupts a CPU spinning one of the test's threads receives are counted from
# the host's /proc/interrupts (Z:\proc\interrupts under Wine).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/stages/lib/emulated.sh

dir=${ASYMFENCE_CROSS_BUILD_PREFIX:-build/ci-}mingw

start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends cmake ninja-build googletest \
  g++-mingw-w64-x86-64-posix wine wine64 >/dev/null
echo "windows: packages installed in $((SECONDS - start)) s"

# Wine's first start creates the prefix (slow): once, here. A persistent
# wineserver, with Wine's services started outside ctest, keeps each test
# quick (otherwise every test waits for the services to time out, since they
# hold its output open).
export WINEPREFIX
WINEPREFIX=$(mktemp -d /tmp/asymfence-wine.XXXXXX)
export WINEDEBUG=-all DISPLAY=
trap 'wineserver -k 2>/dev/null || true; rm -rf "$WINEPREFIX"' EXIT
start=$SECONDS
wineserver --persistent
wineboot --init </dev/null >/dev/null 2>&1
echo "windows: Wine $(wine --version) prefix created in $((SECONDS - start)) s"

echo
echo "=== windows: x86_64-w64-mingw32 (under Wine) ==="
start=$SECONDS
emulated_build "$dir" cmake/toolchains/x86_64-w64-mingw32.cmake
built=$((SECONDS - start))
start=$SECONDS
emulated_test "$dir"
tested=$((SECONDS - start))

# The barrier tests must have run, not skipped: print what they measured.
echo
echo "--- the barrier under Wine ---"
log=$dir/Testing/Temporary/LastTest.log
for test in Windows.StoreBufferingLitmus Windows.HeavyInterruptsACpuRunningASpinningThread; do
  if grep -q "^\[  SKIPPED \] ${test}" "$log" || ! grep -q "^\[       OK \] ${test}" "$log"; then
    echo "windows: ${test} did not run and pass" >&2
    exit 1
  fi
done
measured="control \\(light|virtual_protect: light vs heavy|virtual_protect, attempt"
measured+="|flush_process_write_buffers \\(Wine"
grep -E "^(${measured})" "$log"

# The probe must select virtual_protect under Wine; forcing the stub must be
# accepted with the warning, and fail the self-check (exit 3).
echo
echo "--- asymfence-probe --quick under Wine ---"
probe_status=0
wine "$dir/tools/probe/asymfence-probe.exe" --quick >"$dir/probe.txt" 2>&1 || probe_status=$?
cat "$dir/probe.txt"
echo "(exit code ${probe_status})"
if ! grep -qE "selected +virtual_protect \(automatic\)" "$dir/probe.txt"; then
  echo "windows: the probe did not select virtual_protect under Wine" >&2
  exit 1
fi
echo
echo "--- ASYMFENCE_STRATEGY=flush_process_write_buffers asymfence-probe --quick under Wine ---"
probe_status=0
ASYMFENCE_STRATEGY=flush_process_write_buffers wine "$dir/tools/probe/asymfence-probe.exe" \
  --quick >"$dir/probe-stub.txt" 2>&1 || probe_status=$?
grep -E "WARNING|Result" "$dir/probe-stub.txt"
echo "(exit code ${probe_status})"
warning="WARNING: ASYMFENCE_STRATEGY=flush_process_write_buffers is in force although running"
if ! grep -q "${warning} under Wine" "$dir/probe-stub.txt" || ((probe_status != 3)); then
  echo "windows: the forced stub was not reported (with exit code 3)" >&2
  exit 1
fi

echo
echo "=== windows: times ==="
printf '%-24s build %4d s, tests %4d s\n' x86_64-w64-mingw32 "$built" "$tested"
