#!/usr/bin/env bash
# Builds the VMM fuzzers (clang, libFuzzer + ASan + UBSan) into build/fuzz and runs each for a
# bounded time. Usage: fuzz/run.sh [seconds-per-target, default 20]. Any crash, leak or sanitizer
# report fails the run; crash inputs are left in build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-20}
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found — run tools/bootstrap.sh (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOAT_VMM_FUZZ=ON >/dev/null
cmake --build build/fuzz -j2
mkdir -p build/fuzz/artifacts
python3 fuzz/make_seeds.py build/fuzz/corpus  # well-formed rings to mutate from
status=0
for target in fuzz_descriptor_chain fuzz_block_request fuzz_vsock_packets; do
  corpus=build/fuzz/corpus/$target
  mkdir -p "$corpus"
  echo "== $target (${seconds}s)"
  if ! build/fuzz/fuzz/$target -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -artifact_prefix=build/fuzz/artifacts/$target- -print_final_stats=1 "$corpus" 2>build/fuzz/$target.log; then
    tail -n 60 build/fuzz/$target.log
    echo "fuzz: $target FAILED (log: backends/vmm/build/fuzz/$target.log)" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" build/fuzz/$target.log | tr '\n' ' '
    echo
  fi
done
exit $status
