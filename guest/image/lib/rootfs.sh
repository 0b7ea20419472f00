#!/usr/bin/env bash
# Stage (a) of the image build: debootstrap a Debian root filesystem and pack it as rootfs.tar.
# Slow (minutes, network) and rarely changing, so it is cached on its own, keyed by the flavour's
# package list, suite, mirror and this script; agent changes never re-run it.
#
#   lib/rootfs.sh OUT_DIR SUITE MIRROR PACKAGES_FILE
# Writes OUT_DIR/rootfs.tar and OUT_DIR/packages.txt (name=version of every installed package).
# OUT_DIR must not exist; it appears only when complete.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"
[ $# -eq 4 ] || die "usage: lib/rootfs.sh OUT_DIR SUITE MIRROR PACKAGES_FILE"
out=$1 suite=$2 mirror=$3 packages_file=$4

command -v debootstrap >/dev/null || need "debootstrap not found: apt-get install debootstrap (tools/bootstrap.sh does)"
[ "$(id -u)" -eq 0 ] || need "debootstrap needs root (it creates device nodes and root-owned files): run as root"
curl_ok() { command -v curl >/dev/null && curl -fsS -m 20 -o /dev/null "$mirror/dists/$suite/Release"; }
wget_ok() { command -v wget >/dev/null && wget -q -T 20 -O /dev/null "$mirror/dists/$suite/Release"; }
if command -v curl >/dev/null || command -v wget >/dev/null; then
  curl_ok || wget_ok || need "cannot reach the Debian mirror: $mirror/dists/$suite/Release (check the network, or set MOAT_DEBIAN_MIRROR)"
fi

include=$(flavour_packages "$packages_file" | tr ' ' ',')
# Named after the cache entry, so build.sh can reclaim leftovers of a killed build (it holds a lock).
tmp=$(mktemp -d "$(dirname "$out")/.tmp-$(basename "$out")-XXXXXX")
trap 'umount -R "$tmp/root/proc" "$tmp/root/sys" 2>/dev/null || true; rm -rf "$tmp"' EXIT

say "debootstrap --variant=minbase $suite from $mirror (+ $include); this takes a few minutes"
log="$tmp/debootstrap.log"
# Progress: every 25th step of debootstrap's own "I: ..." lines; the whole log is kept for errors.
if ! debootstrap --variant=minbase --components=main --include="$include" "$suite" "$tmp/root" "$mirror" 2>&1 \
     | tee "$log" | awk '/^I: /{ if (++n % 25 == 0) { print "[image]   debootstrap step " n ": " substr($0, 4); fflush() } }' >&2; then
  tail -n 30 "$log" >&2
  [ -f "$tmp/root/debootstrap/debootstrap.log" ] && tail -n 20 "$tmp/root/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (log tail above)"
fi

# Record what was installed, then drop what a read-only image does not need.
chroot "$tmp/root" dpkg-query -W -f '${Package}=${Version}\n' | LC_ALL=C sort > "$tmp/packages.txt"
rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"* "$tmp/root/debootstrap" \
       "$tmp/root/var/log/"*.log "$tmp/root/var/cache/debconf/"*-old "$tmp/root/dev/"*
say "packing rootfs.tar ($(du -sh "$tmp/root" | cut -f1) unpacked, $(wc -l < "$tmp/packages.txt") packages)"
tar --numeric-owner --xattrs -cf "$tmp/rootfs.tar" -C "$tmp/root" .
mkdir "$tmp/out"
mv "$tmp/rootfs.tar" "$tmp/packages.txt" "$tmp/out/"
mv "$tmp/out" "$out"
