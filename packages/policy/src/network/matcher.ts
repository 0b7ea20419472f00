/**
 * The indexed network matcher behind `Plan.network.decide()`. Rules are indexed so a decision costs
 * a handful of hash lookups whatever the policy size:
 * - host rules: one Map from a normalised name `x` (keyed by a hash of `x` read right to left) to
 *   the rules on `x`, `*.x` and `**.x`; the request host is walked once from its end, and at each
 *   label boundary its suffix is looked up (exact for the whole host, `*.` for the first proper
 *   suffix, `**.` for all) — no substrings are built;
 * - CIDR rules: sorted address ranges (range-index.ts), one binary search per request.
 * Ports, methods and paths are checked on the few candidates found. Results equal `LinearMatcher`'s.
 */
import type { Ip } from "./ip.js";
import { RangeIndex } from "./range-index.js";
import type { NetworkRule } from "./rule.js";
import {
  DecisionAccumulator,
  invalidDecision,
  normalizeRequest,
  portMatches,
  type Decision,
  type NetworkDefaults,
  type NetworkRequest,
} from "./decision.js";

/** The host rules keyed by one name: `name` itself, `*.name` and `**.name`. */
interface NameSlot {
  name: string;
  exact: NetworkRule[] | null;
  one: NetworkRule[] | null;
  any: NetworkRule[] | null;
}

/** One FNV-1a step over a character code, folded to a small integer key. */
function step(h: number, c: number): number {
  return Math.imul(h ^ c, 16777619) >>> 0;
}

const SEED = 2166136261;

/** Hash of a name read right to left (so every suffix's hash is a prefix of the walk). */
function suffixHash(name: string): number {
  let h = SEED;
  for (let i = name.length - 1; i >= 0; i--) h = step(h, name.charCodeAt(i));
  return h & 0x3fffffff;
}

export class IndexedMatcher {
  /** Name slots by suffixHash; a list because different names may share a hash. */
  private readonly names = new Map<number, NameSlot[]>();
  private readonly hasWildcards: boolean;
  private readonly v4: RangeIndex;
  private readonly v6: RangeIndex;
  private readonly acc = new DecisionAccumulator();

  constructor(
    readonly rules: readonly NetworkRule[],
    readonly defaults: NetworkDefaults,
  ) {
    let wildcards = false;
    for (const r of rules) {
      if (!r.host) continue;
      const key = suffixHash(r.host.name);
      let list = this.names.get(key);
      if (!list) this.names.set(key, (list = []));
      let slot = list.find((s) => s.name === r.host!.name);
      if (!slot) list.push((slot = { name: r.host.name, exact: null, one: null, any: null }));
      (slot[r.host.kind] ??= []).push(r);
      if (r.host.kind !== "exact") wildcards = true;
    }
    this.hasWildcards = wildcards;
    this.v4 = new RangeIndex(1, rules.filter((r) => r.cidr?.v === 4));
    this.v6 = new RangeIndex(4, rules.filter((r) => r.cidr?.v === 6));
  }

  /**
   * Walks the host right to left once, hashing as it goes; at every label boundary the suffix's
   * hash is looked up (no substrings are built) and a hit is confirmed by comparing the name.
   */
  private scanHost(host: string, port: number, acc: DecisionAccumulator): void {
    const len = host.length;
    const firstDot = host.indexOf(".");
    let h = SEED;
    for (let i = len - 1; i >= 0; i--) {
      h = step(h, host.charCodeAt(i));
      if (i !== 0 && host.charCodeAt(i - 1) !== 46) continue;
      if (i !== 0 && !this.hasWildcards) continue;
      const list = this.names.get(h & 0x3fffffff);
      if (list === undefined) continue;
      for (let k = 0; k < list.length; k++) {
        const slot = list[k]!;
        if (slot.name.length !== len - i || !host.endsWith(slot.name)) continue;
        if (i === 0) {
          if (slot.exact !== null) offerAll(slot.exact, port, acc);
        } else {
          if (slot.one !== null && i - 1 === firstDot) offerAll(slot.one, port, acc);
          if (slot.any !== null) offerAll(slot.any, port, acc);
        }
      }
    }
  }

  private scanIp(ip: Ip, port: number, acc: DecisionAccumulator): void {
    const list = ip.v === 4 ? this.v4.lookup4(ip.n) : this.v6.lookup(ip.w);
    if (list !== null) offerAll(list, port, acc);
  }

  decide(request: NetworkRequest): Decision {
    const req = normalizeRequest(request);
    if (req.invalid !== undefined) return invalidDecision(req);
    const acc = this.acc;
    acc.reset(req);
    if (req.host !== null) this.scanHost(req.host, req.port, acc);
    if (req.ip !== null) this.scanIp(req.ip, req.port, acc);
    return acc.finish(req, this.defaults);
  }
}

function offerAll(list: NetworkRule[], port: number, acc: DecisionAccumulator): void {
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (portMatches(r, port)) acc.offer(r);
  }
}
