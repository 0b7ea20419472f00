/**
 * The indexed network matcher behind `Plan.network.decide()`. Rules are indexed so a decision costs
 * a handful of hash lookups whatever the policy size:
 * - host rules: one Map from a normalised name `x` (keyed by a hash of `x` read right to left) to
 *   the rules on `x`, `*.x` and `**.x`; the request host is walked once from its end, and at each
 *   label boundary its suffix is looked up (exact for the whole host, `*.` for the first proper
 *   suffix, `**.` for all) — no substrings are built. The rules found for a host (any port) are
 *   kept in a bounded two-generation cache keyed by the raw host string (16,384 names), since a
 *   sandbox talks to few hosts; `hostCacheSize: 0` turns it off;
 * - CIDR rules: sorted address ranges (range-index.ts), one binary search per request.
 * Ports, methods and paths are checked on the few candidates found. Results equal `LinearMatcher`'s.
 */
import { parseIp, parseIpv4Fast, type Ip } from "./ip.js";
import { RangeIndex } from "./range-index.js";
import type { NetworkRule } from "./rule.js";
import {
  classifyHost,
  DecisionAccumulator,
  invalidDecision,
  normalizePath,
  portMatches,
  resolveName,
  type HostClass,
  type ResolveDecision,
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

/** FNV-1a offset basis as a signed 32-bit integer (the walk stays in int32 arithmetic). */
const SEED = 2166136261 | 0;

/** FNV-1a hash of a name read right to left (so every suffix's hash is a prefix of the walk). */
function suffixHash(name: string): number {
  let h = SEED;
  for (let i = name.length - 1; i >= 0; i--) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h & 0x3fffffff;
}

export class IndexedMatcher {
  private readonly cacheLimit: number;
  /** Name slots by suffixHash; a list because different names may share a hash. */
  private readonly names = new Map<number, NameSlot[]>();
  private readonly hasWildcards: boolean;
  private readonly v4: RangeIndex;
  private readonly v6: RangeIndex;
  private readonly acc = new DecisionAccumulator();
  /** Raw request host → its classification and every host rule matching it (any port). */
  private hostCache: Map<string, HostEntry> | null;
  private oldHostCache = new Map<string, HostEntry>();

  constructor(
    readonly rules: readonly NetworkRule[],
    readonly defaults: NetworkDefaults,
    options: { hostCacheSize?: number } = {},
  ) {
    this.cacheLimit = options.hostCacheSize ?? 16_384;
    this.hostCache = this.cacheLimit > 0 ? new Map() : null;
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
   * Every host rule matching a normalised name, whatever the port. Walks the host right to left
   * once, hashing as it goes; at every label boundary the suffix's hash is looked up (no substrings
   * are built) and a hit is confirmed by comparing the name.
   */
  hostRules(host: string): NetworkRule[] {
    const out: NetworkRule[] = [];
    const len = host.length;
    const firstDot = host.indexOf(".");
    const wildcards = this.hasWildcards;
    let h = SEED;
    for (let i = len - 1; i >= 0; i--) {
      h = Math.imul(h ^ host.charCodeAt(i), 16777619);
      if (i !== 0 && (!wildcards || host.charCodeAt(i - 1) !== 46)) continue;
      const list = this.names.get(h & 0x3fffffff);
      if (list === undefined) continue;
      for (let k = 0; k < list.length; k++) {
        const slot = list[k]!;
        if (slot.name.length !== len - i || !host.endsWith(slot.name)) continue;
        if (i === 0) {
          if (slot.exact !== null) append(out, slot.exact);
        } else {
          if (slot.one !== null && i - 1 === firstDot) append(out, slot.one);
          if (slot.any !== null) append(out, slot.any);
        }
      }
    }
    return out;
  }

  /**
   * Two-generation cache (an approximate LRU without bookkeeping): lookups try the current then the
   * previous generation, promoting hits; when the current one is full it becomes the previous one.
   */
  private cachedHostEntry(raw: string): HostEntry {
    let entry = this.hostCache!.get(raw);
    if (entry !== undefined) return entry;
    entry = this.oldHostCache.get(raw) ?? this.hostEntry(raw);
    if (this.hostCache!.size >= this.cacheLimit >> 1) {
      this.oldHostCache = this.hostCache!;
      this.hostCache = new Map();
    }
    this.hostCache!.set(raw, entry);
    return entry;
  }

  private hostEntry(raw: string): HostEntry {
    const cls = classifyHost(raw);
    return { cls, rules: cls.kind === "name" ? this.hostRules(cls.host) : [] };
  }

  /** May the DNS stub resolve this name for the guest? (DNS is itself a way out: see README.) */
  mayResolve(name: string): ResolveDecision {
    const cls = classifyHost(name);
    if (cls.kind !== "name") return { resolve: false, reason: cls.kind === "ip" ? `"${name}" is an address, not a name` : cls.message };
    return resolveName(this.hostRules(cls.host), this.defaults);
  }

  /**
   * Same semantics as `normalizeRequest` + `resolveDecision` (the property tests hold it to the
   * linear matcher), written out so the common path allocates only the decision itself.
   */
  decide(request: NetworkRequest): Decision {
    const raw = request.host;
    let host: string | null = null;
    let ipText = request.ip;
    let hostRules: NetworkRule[] | null = null;
    if (raw !== undefined && raw !== "") {
      const entry = this.hostCache === null ? this.hostEntry(raw) : this.cachedHostEntry(raw);
      const cls = entry.cls;
      if (cls.kind === "name") {
        host = cls.host;
        hostRules = entry.rules;
      } else if (cls.kind === "ip") {
        if (ipText === undefined) ipText = cls.text;
      } else return invalidDecision({ invalid: cls.message });
    }
    let ip4 = -1;
    let ip: Ip | null = null;
    if (ipText !== undefined && ipText !== "") {
      ip4 = parseIpv4Fast(ipText);
      if (ip4 < 0) {
        ip = parseIp(ipText);
        if (ip === null) return invalidDecision({ invalid: `"${ipText}" is not an IP address` });
        if (ip.v === 4) ip4 = ip.n;
      }
    }
    const port = request.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return invalidDecision({ invalid: `port ${String(port)} is not in 1..65535` });
    if (host === null && ip4 < 0 && ip === null) return invalidDecision({ invalid: "the request names neither a host nor an IP address" });
    const acc = this.acc;
    acc.resetHttp(request.method !== undefined ? request.method.toUpperCase() : null, request.path !== undefined ? normalizePath(request.path) : null);
    if (hostRules !== null) offerAll(hostRules, port, acc);
    if (ip4 >= 0) {
      const list = this.v4.lookup4(ip4);
      if (list !== null) offerAll(list, port, acc);
    } else if (ip !== null) {
      const list = this.v6.lookup((ip as { w: number[] }).w);
      if (list !== null) offerAll(list, port, acc);
    }
    return acc.finishWith(host === null, ip, ip4, this.defaults);
  }
}

interface HostEntry {
  cls: HostClass;
  rules: NetworkRule[];
}

function append(out: NetworkRule[], list: readonly NetworkRule[]): void {
  for (let i = 0; i < list.length; i++) out.push(list[i]!);
}

function offerAll(list: NetworkRule[], port: number, acc: DecisionAccumulator): void {
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (portMatches(r, port)) acc.offer(r);
  }
}
