#!/usr/bin/env bash
# Bootstraps a fresh Debian/Ubuntu machine for moat: system packages, pnpm, dependencies, the build,
# and the guest kernel and image caches (~/.cache/moat). Idempotent: a second run only checks.
#
#   tools/bootstrap.sh            everything
#   MOAT_BOOTSTRAP_SKIP_GUEST=1   skip kernel/image (unit-test-only machines)
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
  command -v apt-get >/dev/null || die "not a Debian-based system: install the equivalents of: ${APT_PACKAGES[*]}"
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then say "system packages: all present"; return; fi
  say "installing system packages: ${missing[*]}"
  need_sudo apt-get update -q
  need_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_node_tools() {
  command -v node >/dev/null || die "Node.js >= 20.19 is required (apt-get install nodejs, or nodesource)"
  local want; want=$(node -p 'require("./package.json").packageManager.split("@")[1]')
  if [ "$(pnpm --version 2>/dev/null || true)" != "$want" ]; then
    say "installing pnpm $want"
    need_sudo npm install -g --no-fund --no-audit "pnpm@$want" >/dev/null
  fi
  say "pnpm install"
  pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3
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
