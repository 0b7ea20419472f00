#!/usr/bin/env bash
# Builds moat's guest kernel (also the L1 host kernel of tools/nested-kvm) from Debian's
# linux-source-6.1 package: tinyconfig + guest/kernel/moat.config, every requested option verified.
#
# Output (cached, keyed by inputs): $MOAT_CACHE_DIR/kernels/<hash>/ (default ~/.cache/moat) with
#   vmlinux (PVH ELF), bzImage, config, build-info.json
# <hash> = sha256 of (linux-source .deb version, moat.config, the RECIPE number below). Built in a temp dir and
# renamed into place, so a failed or interrupted build leaves nothing half-written.
#
#   build.sh               build if not cached, print progress, print the directory at the end
#   build.sh --print-dir   print only the directory (building first if needed; progress on stderr)
#   build.sh --check       exit 0 if the kernel for the current inputs is cached, 1 otherwise
#   build.sh --hash        print the input hash
# Env: MOAT_CACHE_DIR, MOAT_KERNEL_JOBS (default nproc), MOAT_LINUX_SOURCE_VERSION (pin a .deb version).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkg=linux-source-6.1
fragment="$here/moat.config"
cache="${MOAT_CACHE_DIR:-$HOME/.cache/moat}"
mode=build
case "${1:-}" in
  "") ;;
  --print-dir) mode=print-dir ;;
  --check) mode=check ;;
  --hash) mode=hash ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "guest/kernel/build.sh: unknown argument '$1' (use --print-dir, --check, --hash or no argument)" >&2; exit 2 ;;
esac

say() { printf '[kernel] %s\n' "$*" >&2; }
die() { printf '[kernel] error: %s\n' "$*" >&2; exit 1; }
# A missing prerequisite of the machine (tool, package index, network) exits 3, a broken build 1.
need() { printf '[kernel] missing prerequisite: %s\n' "$*" >&2; exit 3; }

# The .deb version is part of the cache key: ask apt which one it would download.
deb_version() {
  if [ -n "${MOAT_LINUX_SOURCE_VERSION:-}" ]; then echo "$MOAT_LINUX_SOURCE_VERSION"; return; fi
  command -v apt-cache >/dev/null || need "apt-cache not found: this build needs a Debian-based host (package $pkg)"
  # apt-cache parses every package list (~1.5 s where apt keeps no binary cache, as in Debian's
  # container images), and every moat start asks: remember its answer for the package lists and
  # pins as they are now (names, sizes, mtimes), so it is asked again only after an apt-get update.
  local key memo v
  key=$(ls -l --time-style=+%s /var/lib/apt/lists /etc/apt/preferences /etc/apt/preferences.d 2>/dev/null | sha256sum | cut -c1-16)
  memo="$cache/kernels/.deb-version-$key"
  if [ -s "$memo" ]; then cat "$memo"; return; fi
  v=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
  [ -n "$v" ] || need "apt does not know package $pkg: run 'apt-get update' (Debian bookworm sources needed)"
  if mkdir -p "$cache/kernels" 2>/dev/null && printf '%s\n' "$v" > "$memo.$$" 2>/dev/null; then mv -f "$memo.$$" "$memo"; fi
  echo "$v"
}

version=$(deb_version)
# The key covers what changes the kernel: the source package, the fragment and the build recipe.
# Bump RECIPE when the make steps below change; edits to messages or checks must not throw away a
# ~10-minute build (the cache key used to hash this whole script).
RECIPE=1
hash=$( { echo "$pkg=$version"; echo "recipe=$RECIPE"; cat "$fragment"; } | sha256sum | cut -c1-16)
out="$cache/kernels/$hash"

case "$mode" in
  hash) echo "$hash"; exit 0 ;;
  check) [ -f "$out/build-info.json" ] && exit 0 || exit 1 ;;
esac

if [ -f "$out/build-info.json" ]; then
  [ "$mode" = print-dir ] && { echo "$out"; exit 0; }
  say "cached: $out"; echo "$out"; exit 0
fi

# Only one build of a given kernel at a time (bootstrap and the nested harness may both ask).
mkdir -p "$cache/kernels" "$cache/downloads"
exec 9>"$cache/kernels/.lock-$hash"
flock 9
if [ -f "$out/build-info.json" ]; then echo "$out"; exit 0; fi
# Reclaim the space (~1.5 GB each) of temp dirs left by killed builds: a temp dir whose hash's lock
# nobody holds is stale (ours included, since we hold our lock through this same file descriptor).
for stale in "$cache/kernels/.tmp-"*; do
  [ -d "$stale" ] || continue
  h=${stale#"$cache/kernels/.tmp-"}; h=${h%%-*}
  if [ "$h" = "$hash" ] || flock -n "$cache/kernels/.lock-$h" true 2>/dev/null; then
    say "removing a temp dir left by an interrupted build: $stale"; rm -rf "$stale"
  fi
done

for tool in make gcc flex bison bc dpkg-deb xz; do
  command -v "$tool" >/dev/null || need "'$tool' not found: install the kernel build packages (tools/bootstrap.sh installs build-essential flex bison bc libelf-dev libssl-dev xz-utils)"
done
[ -f /usr/include/libelf.h ] || need "libelf.h not found: apt-get install libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || need "openssl/ssl.h not found: apt-get install libssl-dev"

started=$(date +%s)
jobs="${MOAT_KERNEL_JOBS:-$(nproc)}"

# 1. the source package (cached download)
deb="$cache/downloads/${pkg}_${version//:/%3a}_all.deb"
if [ ! -f "$deb" ]; then
  say "downloading $pkg=$version (~140 MB)"
  dl=$(mktemp -d "$cache/downloads/.tmp-XXXXXX")
  (cd "$dl" && apt-get download -q "$pkg=$version" 2>&1 | grep -v 'unsandboxed as root' >&2) \
    || { rm -rf "$dl"; need "apt-get download $pkg=$version failed (apt says why above): check network access to the Debian mirror in /etc/apt/sources.list, and that the version exists (apt-cache policy $pkg; MOAT_LINUX_SOURCE_VERSION pins one)"; }
  mv "$dl"/*.deb "$deb"; rm -rf "$dl"
fi

# 2. the work dir: source + O= build tree, all removed on exit
tmp=$(mktemp -d "$cache/kernels/.tmp-$hash-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "extracting $(basename "$deb")"
mkdir "$tmp/src" "$tmp/build" "$tmp/out"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" | tar -xJ -C "$tmp/src" --strip-components=1
src="$tmp/src"
kmake() { make -C "$src" O="$tmp/build" ARCH=x86_64 "$@"; }

# 3. config: tinyconfig + our fragment, then verify that nothing we asked for was dropped
say "configuring: tinyconfig + moat.config"
kmake -s tinyconfig >/dev/null
(cd "$tmp/build" && "$src/scripts/kconfig/merge_config.sh" -m -O "$tmp/build" "$tmp/build/.config" "$fragment" >/dev/null)
kmake -s olddefconfig >/dev/null
dropped=()
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*) sym=${line%%=*}; want=${line#*=} ;;
    "# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want=n ;;
    *) continue ;;
  esac
  got=$(sed -n "s/^$sym=//p" "$tmp/build/.config")
  [ -n "$got" ] || got=n
  [ "$got" = "$want" ] || dropped+=("$sym (asked $want, got $got)")
done < "$fragment"
if [ ${#dropped[@]} -gt 0 ]; then
  printf '[kernel] error: %s option(s) of moat.config did not survive olddefconfig (unmet dependencies):\n' "${#dropped[@]}" >&2
  printf '[kernel]   %s\n' "${dropped[@]}" >&2
  die "add the missing dependencies to guest/kernel/moat.config (see 'make menuconfig' help for each symbol)"
fi
say "config verified: every option of moat.config is set"

# 4. build
say "building vmlinux + bzImage with -j$jobs (takes several minutes on 2 cores)"
build_log="$tmp/build.log"
if ! kmake -j"$jobs" vmlinux bzImage >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  die "kernel build failed (log tail above)"
fi
krel=$(kmake -s kernelrelease)

cp "$tmp/build/vmlinux" "$tmp/out/vmlinux"
cp "$tmp/build/arch/x86/boot/bzImage" "$tmp/out/bzImage"
cp "$tmp/build/.config" "$tmp/out/config"
seconds=$(( $(date +%s) - started ))
cat > "$tmp/out/build-info.json" <<JSON
{
  "kernelRelease": "$krel",
  "sourcePackage": "$pkg",
  "sourceVersion": "$version",
  "hash": "$hash",
  "buildSeconds": $seconds,
  "jobs": $jobs,
  "vmlinuxBytes": $(stat -c %s "$tmp/out/vmlinux"),
  "bzImageBytes": $(stat -c %s "$tmp/out/bzImage"),
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON
rm -rf "$out"
mv "$tmp/out" "$out"
say "done in ${seconds}s: $out (vmlinux $(du -h "$out/vmlinux" | cut -f1), bzImage $(du -h "$out/bzImage" | cut -f1))"
echo "$out"
