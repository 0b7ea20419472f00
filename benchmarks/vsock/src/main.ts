/**
 * `pnpm --filter @moat/bench-vsock bench [--mb N] [--runs N] [--pings N] [--json PATH]`: vsock
 * throughput both ways and round-trip latency through moat's VMM on real KVM (T1 payload, so it
 * runs wherever KVM runs CPL3 code), each beside a memcpy bound; medians and spread over runs; the
 * same numbers as JSON (default benchmarks/vsock/out/vsock.json). Not part of the test suite.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { payloadPath, runOnce, type RunResult } from "./run.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

const mb = Number(arg("mb", "256"));
const runs = Number(arg("runs", "5"));
const pings = Number(arg("pings", "2000"));
const jsonPath = resolve(arg("json", "out/vsock.json"));
if (!(mb > 0) || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(pings) || pings < 1) {
  console.error(`bench-vsock: --mb must be > 0, --runs and --pings integers >= 1 (got ${mb}, ${runs}, ${pings})`);
  process.exit(2);
}
if (!existsSync("/dev/kvm")) {
  console.error("bench-vsock: /dev/kvm does not exist; this benchmark needs KVM (CPL3 is enough)");
  process.exit(1);
}
if (!existsSync(payloadPath)) {
  console.error(`bench-vsock: ${payloadPath} is missing; build it: pnpm --filter @moat/vmm build`);
  process.exit(1);
}

console.log(`moat vsock benchmark: ${mb} MB each way per run, ${pings} round trips, ${runs} runs (+1 warm-up), ${os.cpus().length} CPUs`);
const bytes = Math.round(mb * 1e6);
await runOnce(Math.min(bytes, 16e6), 100); // warm-up
const results: RunResult[] = [];
for (let i = 0; i < runs; i++) results.push(await runOnce(bytes, pings));

const memcpy = results.map((r) => r.memcpyMBps);
const rows = [
  { name: "guest→host MB/s", values: results.map((r) => r.guestToHostMBps) },
  { name: "host→guest MB/s", values: results.map((r) => r.hostToGuestMBps) },
  { name: "memcpy MB/s (bound)", values: memcpy },
].map((r) => ({ ...r, median: median(r.values), ratioToMemcpy: median(r.values) / median(memcpy) }));
const rtts = results.flatMap((r) => r.roundTripUs);
const rtt = { medianUs: median(rtts), p99Us: [...rtts].sort((a, b) => a - b)[Math.floor(rtts.length * 0.99)]! };

console.log(`${"metric".padEnd(22)}${"median".padStart(12)}${"spread".padStart(16)}${"÷ memcpy".padStart(12)}`);
for (const r of rows) console.log(`${r.name.padEnd(22)}${r.median.toFixed(0).padStart(12)}${spread(r.values).padStart(16)}${r.ratioToMemcpy.toFixed(4).padStart(12)}`);
console.log(`round trip (64 B)      median ${rtt.medianUs.toFixed(1)} µs, p99 ${rtt.p99Us.toFixed(1)} µs over ${rtts.length}`);

mkdirSync(dirname(jsonPath), { recursive: true });
const tmp = `${jsonPath}.tmp-${process.pid}`;
writeFileSync(tmp, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, mbPerRun: mb, runs, pings, rows, roundTrip: rtt }, null, 2)}\n`);
renameSync(tmp, jsonPath);
console.log(`JSON: ${jsonPath}`);
