#!/usr/bin/env bash
# Builds backends/vmm: the device-model library, T0 unit tests and T1 guest programs (build/default)
# and the same library + tests under ASan/UBSan (build/asan). Used by `pnpm --filter @moat/vmm build`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v cmake >/dev/null || { echo "vmm build: cmake not found — run tools/bootstrap.sh (apt-get install cmake)" >&2; exit 1; }
[ -f /usr/include/doctest/doctest.h ] || { echo "vmm build: doctest not found — run tools/bootstrap.sh (apt-get install doctest-dev)" >&2; exit 1; }
cmake -S . -B build/default -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/default -j2
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DMOAT_VMM_SANITIZE=ON >/dev/null
cmake --build build/asan -j2
