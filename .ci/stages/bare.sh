#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# CI stage: the README's Quick start on a bare Debian 12. Builds a minimal root
# with debootstrap (minbase, plus git and ca-certificates), bind-mounts /proc,
# /sys and /dev into it, clones the commit under test into it, and runs the
# lines of the Quick start code block, taken from that commit's README.md,
# one by one and verbatim (but for a leading `sudo`: the chroot is root).
# Fails when any line fails. Our CI machines have far more installed than a
# new user's: only a bare root shows a missing install step.
#
# Needs root and the Debian mirror (ASYMFENCE_BARE_MIRROR, or the one this
# machine's apt uses). Caches nothing: every run starts from an empty root.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
suite=bookworm

# The mirror this machine's apt uses for $suite (deb822 .sources or one-line
# .list format), else Debian's redirector.
debian_mirror() {
  local uri=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    uri=$(awk -v suite="$suite" '
      /^[[:space:]]*$/ { uris = "" }
      /^URIs:/ { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
      found && uris != "" { print uris; exit }' /etc/apt/sources.list.d/*.sources)
  fi
  if [[ -z $uri ]]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
          sed -E 's/\[[^]]*\]//' |
          awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }')
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# The lines of the first code block under README.md's "## Quick start"
# heading, without blank lines and comments.
quick_start_lines() {
  awk '/^## / { in_section = ($0 == "## Quick start") }
       in_section && /^```/ { if (in_block) exit; in_block = 1; next }
       in_block && !/^[[:space:]]*(#|$)/ { print }' "$1"
}

if ((EUID != 0)); then
  echo "bare: needs root (debootstrap, mount, chroot)" >&2
  exit 1
fi
total_start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

root=$(mktemp -d /tmp/asymfence-bare.XXXXXX)
mounted=()
cleanup() {
  local i status=$?
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
  done
  for i in proc sys dev; do
    if mountpoint -q "$root/$i"; then
      echo "bare: $root/$i is still mounted; leaving $root in place" >&2
      exit 1
    fi
  done
  rm -rf --one-file-system "$root"
  exit "$status"
}
trap cleanup EXIT

mirror=${ASYMFENCE_BARE_MIRROR:-$(debian_mirror)}
start=$SECONDS
echo "bare: debootstrap --variant=minbase --include=git,ca-certificates $suite $root $mirror"
if ! debootstrap --variant=minbase --include=git,ca-certificates "$suite" "$root" "$mirror" \
    >"$root.debootstrap.log" 2>&1; then
  tail -n 30 "$root.debootstrap.log"
  rm -f "$root.debootstrap.log"
  echo "bare: debootstrap failed" >&2
  exit 1
fi
rm -f "$root.debootstrap.log"
echo "bare: root built in $((SECONDS - start)) s ($(du -sm --one-file-system "$root" | cut -f1) MB)"
for i in proc sys dev; do
  mount --bind "/$i" "$root/$i"
  mounted+=("$root/$i")
done

commit=$(git rev-parse HEAD)
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
  echo "bare: the working tree has uncommitted changes; testing the commit ${commit} without them"
fi
git clone --quiet --no-hardlinks "$repo" "$root/root/asymfence"
git -C "$root/root/asymfence" checkout --quiet --detach "$commit"
echo "bare: cloned ${commit} into /root/asymfence"

mapfile -t lines < <(quick_start_lines "$root/root/asymfence/README.md")
if ((${#lines[@]} == 0)); then
  echo "bare: README.md has no Quick start code block" >&2
  exit 1
fi
times=()
for line in "${lines[@]}"; do
  command=${line#sudo }
  echo
  echo "=== bare: ${command}"
  start=$SECONDS
  # A fresh login shell's environment, not this one's.
  if ! chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      /bin/bash -c "cd /root/asymfence && ${command}"; then
    echo "bare: this Quick start line failed on a bare Debian 12: ${line}" >&2
    exit 1
  fi
  times+=("$(printf '%5d s  %s' $((SECONDS - start)) "$line")")
done

echo
echo "=== bare: times (Debian 12 minbase, the README's Quick start) ==="
printf '%s\n' "${times[@]}"
echo "total, with debootstrap: $((SECONDS - total_start)) s"
