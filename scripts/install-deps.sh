#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Installs everything that building asymfence and running all of its tests
# needs, on Debian 12 or Ubuntu 24.04 (the package names are the same), as
# root: the README's Quick start and .ci/run both call it, so that the two
# cannot drift apart. Extra package names given as arguments are installed in
# the same apt-get call (.ci/run adds the ones only CI needs).
#
# usage: sudo scripts/install-deps.sh [PACKAGE...]
set -euo pipefail

# One package a line, so that adding one is a one-line change.
packages=(
  cmake             # >= 3.25 (CMakePresets.json version 6)
  ninja-build       # the generator of every preset
  g++               # a C++17 compiler; brings gcc and binutils (objdump for the code check)
  pkg-config        # the packaging tests check asymfence.pc with it
  libgtest-dev      # GoogleTest (tests)
  libgmock-dev      # GoogleTest's gmock (tests)
  libbenchmark-dev  # Google Benchmark (benchmarks, also run as smoke tests)
  liburcu-dev       # liburcu, the anchor the RCU benchmark compares against (optional)
  strace            # fault injection tests (they skip, saying so, without it)
)

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '3,9{s/^#//;s/^ //;p}' "$0"
  exit 0
fi
if ((EUID != 0)); then
  echo "install-deps.sh: run it as root (sudo $0), since it calls apt-get install" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}" "$@"
