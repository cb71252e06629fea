#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# CI stage: every test with the library built shared (BUILD_SHARED_LIBS=ON).
# The tests that need the test hooks link asymfence_testable, a variant that
# exports them; the packaging tests check that the installed libasymfence.so
# exports the public API and none of the hooks, and link it from C and C++.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/stages/lib/workflow.sh

install_workflow_packages
run_workflow shared
# The preset must really build a shared library, or the stage proves nothing.
if ! ls build/shared/libasymfence.so.* >/dev/null 2>&1; then
  echo "shared: build/shared holds no libasymfence.so.*"
  exit 1
fi
