#!/usr/bin/env bash
# The whole test suite, tier by tier (DESIGN.md §9). Each tier prints its own summary; any failure
# fails the run. Run after tools/bootstrap.sh (the README's test command does both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== T0/T1: unit, device and package tests (turbo)"
pnpm turbo run typecheck lint test --output-logs=new-only
