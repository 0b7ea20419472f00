/**
 * Runs the policy benchmark: compiles the fixture policy, checks that the indexed matcher (with and
 * without its host cache) and the linear reference matcher give the same verdict and rule for every
 * request, then measures decisions per CPU-second of each in alternating rounds (same process, same
 * requests) and reports medians, spread and the ratio indexed/linear.
 */
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  builtinLayer,
  compileNetwork,
  DiagnosticBag,
  formatDiagnostics,
  IndexedMatcher,
  LinearMatcher,
  mergeLayers,
  parsePolicyText,
  type NetworkRequest,
} from "@moat/policy";
import { makeFixture } from "./fixture.js";
import { summarize, type Summary } from "./stats.js";

export interface BenchOptions {
  rules?: number;
  requests?: number;
  rounds?: number;
  /** Wall time per round and contender. */
  roundMs?: number;
}

export interface BenchReport {
  rules: number;
  requests: number;
  distinctHosts: number;
  rounds: number;
  compileMs: number;
  allowed: number;
  denied: number;
  indexed: Summary;
  /** The indexed matcher with its host cache off (every request walks the indexes). */
  indexedNoCache: Summary;
  linear: Summary;
  /**
   * A yardstick for the machine: one Map lookup of the request's host (or IP) and one small object
   * per request — the floor cost of any hash-based matcher on this machine at this load.
   */
  mapLookupFloor: Summary;
  ratio: number;
  target: number;
  targetMet: boolean;
  /** 1-minute load average and core count when the run started (a loaded machine measures slow). */
  machine: { load1: number; cores: number; node: string };
}

type Decide = (r: NetworkRequest) => { verdict: string };

/**
 * Decisions per CPU-second over at least `ms` milliseconds of wall time. CPU time (user + system
 * of this process) rather than wall time, because a shared 2-core machine under load would
 * otherwise measure its neighbours.
 */
function measure(decide: Decide, requests: readonly NetworkRequest[], ms: number): number {
  let n = 0;
  let allowed = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  do {
    for (let i = 0; i < requests.length; i++) if (decide(requests[i]!).verdict === "allow") allowed++;
    n += requests.length;
  } while (performance.now() - start < ms);
  const cpu = process.cpuUsage(cpu0);
  if (allowed < 0) throw new Error("unreachable");
  return n / ((cpu.user + cpu.system) / 1e6);
}

export function compileFixture(options: BenchOptions = {}) {
  const fixture = makeFixture(options.rules ?? 1000, options.requests ?? 20_000);
  const bag = new DiagnosticBag();
  const t0 = performance.now();
  const layer = parsePolicyText(fixture.yaml, "bench-policy.yaml", "file", bag).layer;
  const plan = compileNetwork(mergeLayers([builtinLayer(), layer]), bag);
  const compileMs = performance.now() - t0;
  if (bag.hasErrors()) throw new Error(`benchmark fixture does not validate:\n${formatDiagnostics(bag.errors)}`);
  const linear = new LinearMatcher(plan.rules, plan.defaults);
  return { fixture, plan, linear, compileMs };
}

/** Same verdict and same deciding rule for every request, or an error naming the first mismatch. */
type DecideWithRule = (r: NetworkRequest) => { verdict: string; rule: { id: number } | null };

export function checkSameResults(a: DecideWithRule, b: DecideWithRule, requests: readonly NetworkRequest[]) {
  let allowed = 0;
  for (const r of requests) {
    const x = a(r);
    const y = b(r);
    if (x.verdict !== y.verdict || (x.rule?.id ?? -1) !== (y.rule?.id ?? -1))
      throw new Error(`matchers disagree on ${JSON.stringify(r)}: ${x.verdict}/${x.rule?.id} vs ${y.verdict}/${y.rule?.id}`);
    if (x.verdict === "allow") allowed++;
  }
  return { allowed, denied: requests.length - allowed };
}

export function runPolicyBenchmark(options: BenchOptions = {}): BenchReport {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 400;
  const machine = { load1: loadavg()[0]!, cores: cpus().length, node: process.version };
  const { fixture, plan, linear, compileMs } = compileFixture(options);
  const noCache = new IndexedMatcher(plan.rules, plan.defaults, { hostCacheSize: 0 });
  const indexedDecide = (r: NetworkRequest) => plan.decide(r);
  const noCacheDecide = (r: NetworkRequest) => noCache.decide(r);
  const linearDecide = (r: NetworkRequest) => linear.decide(r);
  const { allowed, denied } = checkSameResults(indexedDecide, linearDecide, fixture.requests);
  checkSameResults(noCacheDecide, linearDecide, fixture.requests);
  // Warm-up so both are optimised before counting.
  measure(indexedDecide, fixture.requests, 200);
  measure(linearDecide, fixture.requests.slice(0, 2000), 200);
  measure(noCacheDecide, fixture.requests, 200);
  const floorMap = new Map<string, number>(fixture.requests.map((r, i) => [r.host ?? r.ip ?? "", i]));
  const floorDecide = (r: NetworkRequest) => ({ verdict: floorMap.get(r.host ?? r.ip ?? "") === 0 ? "allow" : "deny" });
  measure(floorDecide, fixture.requests, 100);
  const floor: number[] = [];
  const fast: number[] = [];
  const uncached: number[] = [];
  const slow: number[] = [];
  for (let i = 0; i < rounds; i++) {
    fast.push(measure(indexedDecide, fixture.requests, roundMs));
    uncached.push(measure(noCacheDecide, fixture.requests, roundMs));
    slow.push(measure(linearDecide, fixture.requests.slice(0, 2000), roundMs));
    floor.push(measure(floorDecide, fixture.requests, roundMs / 4));
  }
  const indexed = summarize(fast);
  const lin = summarize(slow);
  const target = 1_000_000;
  return {
    rules: plan.rules.length,
    requests: fixture.requests.length,
    distinctHosts: new Set(fixture.requests.map((r) => r.host).filter(Boolean)).size,
    rounds,
    compileMs,
    allowed,
    denied,
    indexed,
    indexedNoCache: summarize(uncached),
    linear: lin,
    mapLookupFloor: summarize(floor),
    ratio: indexed.median / lin.median,
    target,
    targetMet: indexed.median >= target,
    machine,
  };
}
