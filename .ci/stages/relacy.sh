#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# CI stage: model checking with relacy (docs/model-checking.md). Installs
# Debian's relacy-dev (header-only), builds the model-checking programs alone,
# runs them through ctest (the controls pass only when relacy reports the bug
# they plant), then builds and runs the documented example with the very
# command the documentation gives a user.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  relacy-dev cmake ninja-build g++ libgtest-dev >/dev/null

build=${RELACY_BUILD_DIR:-build/ci-relacy}
start=$SECONDS
# ON, not AUTO: a missing relacy must fail the stage, not skip the tests.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DASYMFENCE_RELACY_TESTS=ON -DASYMFENCE_BUILD_BENCHMARKS=OFF \
  -DASYMFENCE_BUILD_TOOLS=OFF -DASYMFENCE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target asymfence_relacy_tests
echo "relacy: built in $((SECONDS - start)) s"

start=$SECONDS
ctest --test-dir "$build" -L relacy --no-tests=error --output-on-failure
echo "relacy: ctest ran in $((SECONDS - start)) s"

# The user's command from docs/model-checking.md, verbatim but for the paths.
start=$SECONDS
g++ -std=c++17 -fno-sized-deallocation -I include \
  tests/relacy/safepoint_example.cpp -o "$build/safepoint_example"
"$build/safepoint_example"
echo "relacy: documented example built and checked in $((SECONDS - start)) s"
