#!/usr/bin/env bash
# Builds moat's read-only base image: a Debian root filesystem (debootstrap) with the guest agent
# installed as /sbin/moat-agent, packed as erofs. Two cached layers, so an agent change never
# re-runs debootstrap:
#   (a) $MOAT_CACHE_DIR/rootfs/<hash>/rootfs.tar  key: flavour package list, suite, mirror, lib/rootfs.sh
#   (b) $MOAT_CACHE_DIR/images/<hash>/{base.erofs,manifest.json}  key: (a) + agent binary + lib/assemble.sh
# ($MOAT_CACHE_DIR defaults to ~/.cache/moat.) Every directory appears only when complete.
#
#   build.sh [--flavour base]              build if needed, progress on stderr, print the image dir
#   build.sh [--flavour base] --print-dir  same, printing only the directory on stdout
#   build.sh [--flavour base] --check      exit 0 if the image for the current inputs is cached
# Env: MOAT_CACHE_DIR, MOAT_DEBIAN_MIRROR (default: the bookworm mirror of /etc/apt/sources.list),
#      MOAT_AGENT_BINARY (use this agent binary instead of building guest/agent).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib/common.sh"
repo=$(cd "$here/../.." && pwd)
suite=bookworm
flavour=base
mode=build
while [ $# -gt 0 ]; do
  case "$1" in
    --flavour) [ $# -ge 2 ] || die "--flavour needs a value (one of: $(cd "$here/flavours" && ls | sed 's/\.packages$//' | tr '\n' ' '))"
               flavour=$2; shift ;;
    --flavour=*) flavour=${1#*=} ;;
    --print-dir) mode=print-dir ;;
    --check) mode=check ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (use --flavour NAME, --print-dir, --check)" ;;
  esac
  shift
done
packages_file="$here/flavours/$flavour.packages"
[ -f "$packages_file" ] || die "unknown flavour '$flavour': no $packages_file (flavours: $(cd "$here/flavours" && ls | sed 's/\.packages$//' | tr '\n' ' '))"

sha() { sha256sum | cut -c1-16; }
# --print-dir runs on every sandbox start: there, only work in progress is worth a line.
note() { [ "$mode" = print-dir ] || say "$@"; }
mirror=$(debian_mirror "$suite")
rootfs_hash=$( { echo "flavour=$flavour suite=$suite mirror=$mirror"; cat "$packages_file" "$here/lib/rootfs.sh"; } | sha)
rootfs_dir="$cache/rootfs/$rootfs_hash"

# The agent binary: an explicit one, or guest/agent's own build.
agent_makefile="$repo/guest/agent/Makefile"
agent="${MOAT_AGENT_BINARY:-$repo/guest/agent/build/moat-agent}"
image_dir_for() { echo "$cache/images/$( { echo "rootfs=$rootfs_hash agent=$(sha256sum < "$agent" | cut -d' ' -f1)"; cat "$here/lib/assemble.sh"; } | sha)"; }

if [ "$mode" = check ]; then
  [ -f "$agent" ] || exit 1
  if [ -z "${MOAT_AGENT_BINARY:-}" ] && [ -f "$agent_makefile" ]; then make -q -C "$repo/guest/agent" build/moat-agent >/dev/null 2>&1 || exit 1; fi
  [ -f "$(image_dir_for)/manifest.json" ] && exit 0 || exit 1
fi

mkdir -p "$cache/rootfs" "$cache/images"
exec 9>"$cache/images/.lock-$flavour"
flock 9
started=$(date +%s)
# Holding the lock, temp dirs of this flavour's cache entries are leftovers of a killed build.
rm -rf "$cache/rootfs/.tmp-$rootfs_hash-"*

# (a) rootfs
if [ -f "$rootfs_dir/rootfs.tar" ]; then
  note "rootfs ($flavour): cached $rootfs_dir"
else
  say "rootfs ($flavour): building $rootfs_dir"
  "$here/lib/rootfs.sh" "$rootfs_dir" "$suite" "$mirror" "$packages_file"
  say "rootfs ($flavour): done in $(( $(date +%s) - started ))s"
fi

# the agent
if [ -z "${MOAT_AGENT_BINARY:-}" ]; then
  [ -f "$agent_makefile" ] || die "the guest agent is missing: $agent_makefile does not exist, so there is no /sbin/moat-agent to install (the agent helper's guest/agent must build guest/agent/build/moat-agent), or set MOAT_AGENT_BINARY=/path/to/moat-agent"
  if make -q -C "$repo/guest/agent" build/moat-agent >/dev/null 2>&1; then note "agent: up to date"; else say "agent: make -C guest/agent build/moat-agent"; fi
  make -s --no-print-directory -C "$repo/guest/agent" build/moat-agent >&2 || die "building the agent failed: make -C guest/agent build/moat-agent (output above)"
fi
[ -f "$agent" ] || die "agent binary not found: $agent (make -C guest/agent should produce it; or set MOAT_AGENT_BINARY)"
if readelf -lW "$agent" 2>/dev/null | grep -q 'Requesting program interpreter'; then
  die "agent binary $agent is dynamically linked; PID 1 of the image must be static (musl-gcc -static)"
fi

# (b) the image
image_dir=$(image_dir_for)
rm -rf "$cache/images/.tmp-$(basename "$image_dir")-"*
if [ -f "$image_dir/manifest.json" ]; then
  note "image ($flavour): cached $image_dir"
else
  say "image ($flavour): assembling $image_dir"
  inputs=$(printf '{"flavour": "%s", "suite": "%s", "mirror": "%s", "variant": "minbase", "packageList": "%s", "rootfsHash": "%s", "rootfsTarBytes": %s, "agentBinary": "%s"}' \
    "$flavour" "$suite" "$mirror" "$(flavour_packages "$packages_file")" "$rootfs_hash" "$(stat -c %s "$rootfs_dir/rootfs.tar")" "$agent")
  "$here/lib/assemble.sh" "$image_dir" "$rootfs_dir" "$agent" "$inputs"
  say "image ($flavour): done in $(( $(date +%s) - started ))s, base.erofs $(du -h "$image_dir/base.erofs" | cut -f1)"
fi
echo "$image_dir"
