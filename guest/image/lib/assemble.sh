#!/usr/bin/env bash
# Stage (b) of the image build: turn a cached rootfs.tar plus the agent binary into the read-only
# base image (erofs) that every sandbox boots from (see guest/README.md §4 for what PID 1 expects).
#
#   lib/assemble.sh OUT_DIR ROOTFS_DIR AGENT_BINARY MANIFEST_JSON_FRAGMENT
# Writes OUT_DIR/base.erofs and OUT_DIR/manifest.json; OUT_DIR appears only when complete.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"
[ $# -eq 4 ] || die "usage: lib/assemble.sh OUT_DIR ROOTFS_DIR AGENT_BINARY MANIFEST_JSON_FRAGMENT"
out=$1 rootfs=$2 agent=$3 inputs_json=$4
started=$(date +%s)

command -v mkfs.erofs >/dev/null || need "mkfs.erofs not found: apt-get install erofs-utils (tools/bootstrap.sh does)"
[ "$(id -u)" -eq 0 ] || need "assembling the image needs root (to keep root-owned and setuid files of the rootfs): run as root"

# Named after the cache entry, so build.sh can reclaim leftovers of a killed build (it holds a lock).
tmp=$(mktemp -d "$(dirname "$out")/.tmp-$(basename "$out")-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
mkdir "$root" "$tmp/out"
say "unpacking rootfs.tar"
tar --numeric-owner --xattrs -xpf "$rootfs/rootfs.tar" -C "$root"

# The agent is PID 1. /sbin is a symlink to usr/sbin on Debian bookworm (merged /usr).
sbin="$root/sbin"; [ -L "$sbin" ] && sbin="$root/usr/sbin"
install -m 0755 "$agent" "$sbin/moat-agent"

# Mount points and the few files PID 1 expects (guest/README.md §4).
for d in proc sys dev run tmp mnt/rw; do mkdir -p "$root/$d"; done
chmod 1777 "$root/tmp"
echo moat > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmoat\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
rm -f "$root/etc/resolv.conf"
printf '# placeholder: the moat agent answers DNS here once egress is configured\nnameserver 127.0.0.1\n' > "$root/etc/resolv.conf"
: > "$root/etc/machine-id"

# erofs: read-only by construction, compact, and mountable by the kernel without a journal replay.
# lz4hc: small image, and lz4 decompression is cheap even under TCG. -T0 + fixed UUID: same
# inputs give the same bytes.
say "mkfs.erofs (lz4hc) base.erofs"
mkfs.erofs --quiet -zlz4hc -T0 -U 6d6f6174-0000-4000-8000-000000000001 "$tmp/out/base.erofs" "$root" >&2 \
  || die "mkfs.erofs failed for $root"

seconds=$(( $(date +%s) - started ))
{
  echo "{"
  echo "  \"format\": \"erofs\", \"compression\": \"lz4hc\","
  echo "  \"erofsUtils\": \"$(dpkg-query -W -f '${Version}' erofs-utils 2>/dev/null || echo unknown)\","
  echo "  \"imageBytes\": $(stat -c %s "$tmp/out/base.erofs"),"
  echo "  \"rootfsBytes\": $(du -sb "$root" | cut -f1),"
  echo "  \"agentSha256\": \"$(sha256sum "$agent" | cut -d' ' -f1)\","
  echo "  \"assembleSeconds\": $seconds,"
  echo "  \"builtAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"inputs\": $inputs_json,"
  printf '  "packages": ['
  sep=""; while IFS= read -r p; do printf '%s\n    "%s"' "$sep" "$p"; sep=","; done < "$rootfs/packages.txt"
  printf '\n  ]\n}\n'
} > "$tmp/out/manifest.json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out/manifest.json" \
  || die "internal error: manifest.json is not valid JSON"
mv "$tmp/out" "$out"
