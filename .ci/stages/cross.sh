#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# CI stage: other architectures (docs/platforms.md). Cross-builds the library,
# the probe and the tests for aarch64, riscv64 and ppc64le with Debian's cross
# compilers, and runs the tests under qemu-user.
#
# qemu-user runs the programs with this x86 host's memory ordering: these runs
# check the build, strategy selection and code generation, not weak-memory
# behaviour. Tests that cannot work under qemu-user skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/stages/lib/emulated.sh

# Debian's triple (toolchain file, compiler package) and a short name for each.
declare -A short_names=([aarch64-linux-gnu]=aarch64 [riscv64-linux-gnu]=riscv64
                        [powerpc64le-linux-gnu]=ppc64le)
architectures=(aarch64-linux-gnu riscv64-linux-gnu powerpc64le-linux-gnu)
build_prefix=${ASYMFENCE_CROSS_BUILD_PREFIX:-build/ci-}

start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# googletest: GoogleTest's sources, built for each target (no target build is
# packaged).
apt-get install -y -qq --no-install-recommends cmake ninja-build qemu-user googletest \
  "${architectures[@]/#/g++-}" >/dev/null
echo "cross: packages installed in $((SECONDS - start)) s"

echo "cross: qemu-user runs the tests with this host's (x86) memory ordering: they check"
echo "       builds, selection and code generation, not weak-memory behaviour."
# Every architecture runs even when one fails, so that one CI run shows all.
times=()
failed=()
for triple in "${architectures[@]}"; do
  echo
  echo "=== cross: ${triple} (under qemu-user) ==="
  dir=${build_prefix}${short_names[$triple]}
  start=$SECONDS
  if ! emulated_build "$dir" "cmake/toolchains/${triple}.cmake"; then
    failed+=("${triple} (build)")
    continue
  fi
  built=$((SECONDS - start))
  start=$SECONDS
  emulated_test "$dir" || failed+=("${triple} (tests)")
  tested=$((SECONDS - start))
  times+=("$(printf '%-24s build %4d s, tests %4d s' "$triple" "$built" "$tested")")
done

echo
echo "=== cross: times ==="
printf '%s\n' "${times[@]}"
if ((${#failed[@]} > 0)); then
  echo "cross: failed: ${failed[*]}" >&2
  exit 1
fi
