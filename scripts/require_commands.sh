# Sourced by the performance scripts: require_commands COMMAND:PACKAGE ...
# installs the Debian package of each missing command with apt-get (as root,
# or through sudo), or stops with a message naming what is missing.
require_commands() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "$(basename "$0"): needs ${missing[*]} (not installed, and no apt-get here)" >&2
    exit 2
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
