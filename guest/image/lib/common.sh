# Shared helpers of guest/image/*.sh: logging, errors, the cache root and the Debian mirror.
# Sourced, not executed.

cache="${MOAT_CACHE_DIR:-$HOME/.cache/moat}"
say() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }
# A missing prerequisite of the machine (tool, root, network) exits 3, so callers such as the boot
# test can tell "cannot be built here" from a broken build (exit 1).
need() { printf '[image] missing prerequisite: %s\n' "$*" >&2; exit 3; }

# The Debian mirror apt already uses for $1 (the suite), read from /etc/apt/sources.list and
# sources.list.d (one-line and deb822 formats). MOAT_DEBIAN_MIRROR overrides.
debian_mirror() {
  local suite=$1 files=()
  if [ -n "${MOAT_DEBIAN_MIRROR:-}" ]; then echo "$MOAT_DEBIAN_MIRROR"; return; fi
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && files+=("$f"); done
  local url=""
  if [ ${#files[@]} -gt 0 ]; then
    url=$(awk -v s="$suite" '{ line=$0; sub(/\[[^]]*\]/, "", line); n=split(line, a);
            if (a[1]=="deb" && a[3]==s) { print a[2]; exit } }' "${files[@]}")
  fi
  if [ -z "$url" ]; then
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      url=$(awk -v s="$suite" 'BEGIN{RS=""; FS="\n"} {
              uris=""; ok=0; deb=0
              for (i=1;i<=NF;i++) {
                if ($i ~ /^URIs:/) { split($i,a,/[ \t]+/); uris=a[2] }
                if ($i ~ /^Types:/ && $i ~ /(^|[ \t])deb([ \t]|$)/) deb=1
                if ($i ~ /^Suites:/) { n=split($i,a,/[ \t]+/); for (j=2;j<=n;j++) if (a[j]==s) ok=1 }
              }
              if (ok && deb && uris!="") { print uris; exit } }' "$f")
      [ -n "$url" ] && break
    done
  fi
  [ -n "$url" ] || need "no Debian mirror for suite '$suite' in /etc/apt/sources.list{,.d}: add one, or set MOAT_DEBIAN_MIRROR=<url>"
  echo "${url%/}"
}

# Package names of a flavour file (comments and blank lines dropped), space-separated.
flavour_packages() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1" | tr -s ' \n' ' ' | sed 's/ $//'; }
