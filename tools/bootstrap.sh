#!/usr/bin/env bash
# Bootstraps a fresh Debian/Ubuntu machine for moat: system packages, pnpm, dependencies, the build,
# and the guest kernel and image caches (~/.cache/moat). Idempotent: a second run only checks.
#
#   tools/bootstrap.sh            everything
#   MOAT_BOOTSTRAP_SKIP_GUEST=1   skip kernel/image (unit-test-only machines)
#   MOAT_BOOTSTRAP_SKIP_APT=1     skip system packages (non-Debian hosts that installed the equivalents)
# Runs as root, or as a user with sudo (used only for apt-get and the global pnpm install).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

# Debian packages moat's build, guest and tests need (each line says who needs it).
APT_PACKAGES=(
  build-essential python3            # node-gyp for the native backends
  clang llvm libclang-rt-14-dev      # libFuzzer + sanitizers for the VMM's guest-input parsers
  cmake doctest-dev                  # backends/vmm: device-model build and its T0 unit tests (ctest)
  flex bison bc libelf-dev libssl-dev cpio xz-utils zstd   # guest kernel build (linux-source)
  musl-tools nanopb protobuf-compiler python3-protobuf     # static C guest agent and its RPC code
  libnanopb-dev                      # packages/rpc/c: nanopb runtime (pb_*.h, libprotobuf-nanopb.a)
  debootstrap erofs-utils e2fsprogs                        # guest base image
  qemu-system-x86 qemu-utils         # software fallback backend and the nested-KVM test harness
  busybox-static socat
)

need_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "run as root or install sudo: need to run: $*"; fi; }

install_apt() {
  if [ "${MOAT_BOOTSTRAP_SKIP_APT:-0}" = 1 ]; then say "system packages: skipped (MOAT_BOOTSTRAP_SKIP_APT=1)"; return; fi
  if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
    die "this is not a Debian-based system (no apt-get/dpkg-query). Install the equivalents of these Debian packages with your package manager: ${APT_PACKAGES[*]} -- then rerun with MOAT_BOOTSTRAP_SKIP_APT=1"
  fi
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then say "system packages: all present"; return; fi
  say "installing system packages: ${missing[*]}"
  need_sudo apt-get update -q
  need_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

check_node() {
  command -v node >/dev/null || die "Node.js >= 20.19 is required and missing: install it from https://nodejs.org or NodeSource (Debian 12's own nodejs package is 18, too old)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js $(node --version) is too old: moat needs >= 20.19 (install a newer one from https://nodejs.org or NodeSource)"
}

install_pnpm() {
  local want; want=$(node -p 'require("./package.json").packageManager.split("@")[1]')
  [ "$(pnpm --version 2>/dev/null || true)" = "$want" ] && return
  say "installing pnpm $want (pinned by package.json packageManager)"
  if command -v npm >/dev/null; then
    need_sudo npm install -g --no-fund --no-audit "pnpm@$want" >/dev/null
  elif command -v corepack >/dev/null; then
    need_sudo corepack enable pnpm && corepack prepare "pnpm@$want" --activate >/dev/null
  else
    die "cannot install pnpm $want: neither npm nor corepack is on PATH (they come with Node.js)"
  fi
  [ "$(pnpm --version 2>/dev/null || true)" = "$want" ] || die "pnpm $want was installed but \`pnpm --version\` says '$(pnpm --version 2>&1 || true)': check that the global npm bin folder is on PATH"
}

# Runs a step quietly; on failure prints the end of its log and stops.
quiet() {
  local what=$1; shift
  local log; log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then tail -n 60 "$log" >&2; rm -f "$log"; die "$what failed (full command: $*)"; fi
  rm -f "$log"
}

install_node_tools() {
  check_node
  install_pnpm
  say "pnpm install"
  quiet "pnpm install" pnpm install --frozen-lockfile --reporter=append-only
  say "building the workspace (turbo; cached after the first run)"
  pnpm turbo run build --output-logs=errors-only
}

build_guest() {
  [ "${MOAT_BOOTSTRAP_SKIP_GUEST:-0}" = 1 ] && { say "guest artifacts: skipped (MOAT_BOOTSTRAP_SKIP_GUEST=1)"; return; }
  for step in guest/kernel/build.sh guest/image/build.sh; do
    if [ -x "$step" ]; then say "$step"; "$step"; fi
  done
}

install_apt
install_node_tools
build_guest
say "ready"
