#!/usr/bin/env bash
# The whole test suite, tier by tier (docs/ARCHITECTURE.md, "Test tiers"). Each tier prints its own summary; any failure
# fails the run. Run after tools/bootstrap.sh (the README's test command does both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== T0/T1: unit, device and package tests (turbo)"
pnpm turbo run typecheck lint test --output-logs=new-only --concurrency=3 --continue
echo "== fuzz: @moat/rpc C frame decoder (libFuzzer + ASan/UBSan, ${MOAT_RPC_FUZZ_SECONDS:-45} s)"
rpc_fuzz_log=$(mktemp)
if make -s -C packages/rpc/c fuzz-run FUZZ_SECONDS="${MOAT_RPC_FUZZ_SECONDS:-45}" >"$rpc_fuzz_log" 2>&1; then
  grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$rpc_fuzz_log" || tail -n 4 "$rpc_fuzz_log"
else
  tail -n 80 "$rpc_fuzz_log"; echo "rpc fuzzer failed (crash input saved under packages/rpc/c/build/fuzz or the cwd)"; exit 1
fi
echo "== VMM fuzzers: libFuzzer + ASan/UBSan, ${MOAT_FUZZ_SECONDS:-20} s per target (backends/vmm/fuzz)"
bash backends/vmm/fuzz/run.sh "${MOAT_FUZZ_SECONDS:-20}"
echo "== E2E on the software fallback backend: the nested suite's scenarios + conformance kit, QEMU (TCG here) on this host"
MOAT_E2E_BACKEND=qemu pnpm --filter @moat/nested-kvm exec vitest run --config e2e/vitest.config.ts
echo "== T2: nested end-to-end suite — real KVM backend, guest kernel, image and agent inside the nested-KVM L1 (tools/nested-kvm)"
# The L1 runs under TCG, whose generated code depends on the host CPU: name it, so a failure that
# only one kind of host shows can be told apart.
echo "host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); vector: $(grep -m1 -o -w -E 'avx2|avx512[a-z0-9_]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
# The L1 itself is TCG's emulation of an SVM machine, and it sometimes fails under load: a node
# process inside it dies of SIGSEGV before a test runs, or the L1 kernel dies (tools/nested-kvm/README.md
# "Concurrent L2 guests" has the measurements). Such a failure, and only such a failure, gets one
# more run, announced; a failed assertion or a crashed sandbox fails T2 at once.
t2_log=$(mktemp)
run_t2() { pnpm --filter @moat/nested-kvm e2e 2>&1 | tee "$t2_log"; }
if ! run_t2; then
  emulation_failure=$(grep -a -m1 -o -E 'Command was killed with SIG(SEGV|ILL|BUS)[^:]*|the L1 VM ended \([^)]*\) without reporting' "$t2_log" || true)
  if [ -z "$emulation_failure" ]; then rm -f "$t2_log"; exit 1; fi
  echo "== T2 again: the first run failed in the L1 emulation, not in a test (\"$emulation_failure\")"
  run_t2 || { rm -f "$t2_log"; exit 1; }
fi
rm -f "$t2_log"
