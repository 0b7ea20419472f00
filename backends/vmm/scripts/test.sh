#!/usr/bin/env bash
# Runs the T0 unit tests with ctest, plain and under ASan/UBSan. Used by `pnpm --filter @moat/vmm test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for dir in build/default build/asan; do
  [ -d "$dir" ] || { echo "vmm test: $dir missing — run 'pnpm --filter @moat/vmm build' first" >&2; exit 1; }
  echo "== ctest $dir"
  ctest --test-dir "$dir" --output-on-failure -j2
done
