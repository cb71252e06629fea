#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# CI stage: every test in the checked-light build (ASYMFENCE_CHECKED_LIGHT=ON),
# where light() tests one flag so that the fence strategy is sound: selection
# must still prefer membarrier, and ASYMFENCE_STRATEGY=fence must be accepted
# (tests/checked).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/stages/lib/workflow.sh

install_workflow_packages
run_workflow checked
# The preset must really build the variant, or the stage proves nothing.
config=build/checked/generated/asymfence/include/asymfence/config.h
if ! grep -q '^#define ASYMFENCE_CHECKED_LIGHT 1' "$config"; then
  echo "checked: ${config} does not enable ASYMFENCE_CHECKED_LIGHT"
  exit 1
fi
