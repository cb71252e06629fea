# SPDX-License-Identifier: Apache-2.0 OR MIT
# Sourced by the performance scripts.

# die MESSAGE...: stops the calling script with its name and the message.
die() {
  echo "$(basename "$0"): $*" >&2
  exit 2
}

# check_benchmark_options REPETITIONS MIN_TIME: stops unless both are valid.
check_benchmark_options() {
  [[ "$1" =~ ^[1-9][0-9]*$ ]] || die "--repetitions must be a whole number >= 1, not '$1'"
  [[ "$2" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--min-time must be a number of seconds, not '$2'"
}

# require_commands COMMAND:PACKAGE ...: installs the Debian package of each
# missing command with apt-get (as root, or through sudo), or stops with a
# message naming what is missing.
require_commands() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "needs ${missing[*]} (not installed, and no apt-get here)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
