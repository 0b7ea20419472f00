#!/usr/bin/env bash
# Creates a sandbox's writable disk: a sparse raw file formatted ext4, in milliseconds (lazy inode
# table and journal initialisation; only metadata blocks are written). The guest agent mounts it as
# the upper layer of its overlay root (guest/README.md §2).
#
#   new-writable-disk.sh PATH [SIZE]     SIZE: bytes or with a K/M/G/T suffix (default 4G, min 16M)
# Refuses to overwrite PATH. Writes PATH.tmp-<pid> and renames it, so PATH is never half-made.
set -euo pipefail
die() { printf 'new-writable-disk.sh: error: %s\n' "$*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: new-writable-disk.sh PATH [SIZE]  (e.g. new-writable-disk.sh /tmp/sb1/rw.img 4G)"
path=$1 size=${2-4G}

case "$size" in
  *[!0-9KMGTkmgt]*|""|[KMGTkmgt]*) die "bad SIZE '$size': use a number of bytes or a number with K, M, G or T (e.g. 4G)" ;;
esac
bytes=$(numfmt --from=iec "$(echo "$size" | tr 'kmgt' 'KMGT')" 2>/dev/null) || die "bad SIZE '$size': use e.g. 512M or 4G"
[ "$bytes" -ge $((16 * 1024 * 1024)) ] || die "SIZE '$size' is too small: an ext4 writable disk needs at least 16M"
[ ! -e "$path" ] || die "'$path' already exists: remove it first or choose another path (refusing to overwrite a disk)"
dir=$(dirname "$path")
[ -d "$dir" ] || die "directory '$dir' does not exist: create it first"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found: apt-get install e2fsprogs"

tmp="$path.tmp-$$"
trap 'rm -f "$tmp"' EXIT
truncate -s "$bytes" "$tmp" || die "cannot create '$tmp' (permissions or disk space?)"
# -m 0: no blocks reserved for root (the sandbox user owns the whole disk); -L: label for debugging;
# nodiscard: the file is new and sparse, there is nothing to discard.
mkfs.ext4 -q -F -m 0 -L moat-rw -E lazy_itable_init=1,lazy_journal_init=1,nodiscard "$tmp" \
  || die "mkfs.ext4 failed on '$tmp'"
mv "$tmp" "$path"
trap - EXIT
