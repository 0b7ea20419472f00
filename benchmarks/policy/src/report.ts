/** Renders the policy benchmark report as a table. */
import type { BenchReport } from "./benchmark.js";

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

export function formatReport(r: BenchReport): string {
  const row = (name: string, s: BenchReport["indexed"]) =>
    `${name.padEnd(16)} ${fmt(s.median).padStart(14)} ${fmt(s.min).padStart(14)} ${fmt(s.max).padStart(14)}`;
  return [
    `policy decisions: ${r.rules} rules (incl. preset), ${r.requests} requests (${r.allowed} allow / ${r.denied} deny), ${r.rounds} rounds, parse+compile ${r.compileMs.toFixed(1)} ms`,
    `machine: ${r.machine.cores} cores, load average ${r.machine.load1.toFixed(1)} at start, node ${r.machine.node}`,
    "results identical for every request: yes",
    `("indexed" keeps its host cache — the corpus's ${r.distinctHosts} distinct names fit — so it measures a warm proxy; "no cache" walks the indexes for every request)`,
    `${"decisions per CPU-second".padEnd(16)}`,
    `${"matcher".padEnd(16)} ${"median".padStart(14)} ${"min".padStart(14)} ${"max".padStart(14)}`,
    row("indexed", r.indexed),
    row("indexed no cache", r.indexedNoCache),
    row("linear (naive)", r.linear),
    row("Map.get floor", r.mapLookupFloor),
    `ratio indexed/linear: ${r.ratio.toFixed(1)}x (no cache: ${(r.indexedNoCache.median / r.linear.median).toFixed(1)}x)`,
    `target >= ${fmt(r.target)} decisions/s: ${r.targetMet ? "met" : "NOT met"} (the Map.get floor row shows what this machine does at this load for one bare lookup per request)`,
  ].join("\n");
}
