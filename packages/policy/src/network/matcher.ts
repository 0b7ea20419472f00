/**
 * The indexed network matcher behind `Plan.network.decide()`. Rules are indexed so a decision costs
 * a handful of hash lookups whatever the policy size:
 * - exact host rules: one Map keyed by the normalised name;
 * - `*.x` rules: a Map keyed by `x`, looked up with the request host minus its first label;
 * - `**.x` rules: a Map keyed by `x`, looked up with every proper suffix of the request host;
 * - CIDR rules: per prefix length a Map from network address to rules (IPv4 keys are numbers,
 *   IPv6 keys the masked words joined), probed once per distinct prefix length present.
 * Ports, methods and paths are checked on the few candidates found. Results equal `LinearMatcher`'s.
 */
import type { Ip } from "./ip.js";
import { maskBits } from "./ip.js";
import type { NetworkRule } from "./rule.js";
import {
  invalidDecision,
  normalizeRequest,
  portMatches,
  resolveDecision,
  type Decision,
  type NetworkDefaults,
  type NetworkRequest,
} from "./decision.js";

function push<K>(map: Map<K, NetworkRule[]>, key: K, rule: NetworkRule): void {
  const list = map.get(key);
  if (list) list.push(rule);
  else map.set(key, [rule]);
}

function v6Key(w: readonly number[], prefix: number): string {
  let key = "";
  for (let i = 0; i < 4; i++) key += ((w[i]! & maskBits(prefix - i * 32)) >>> 0).toString(16) + ":";
  return key;
}

export class IndexedMatcher {
  private readonly exact = new Map<string, NetworkRule[]>();
  private readonly oneLevel = new Map<string, NetworkRule[]>();
  private readonly anyDepth = new Map<string, NetworkRule[]>();
  private readonly v4 = new Map<number, Map<number, NetworkRule[]>>();
  private readonly v6 = new Map<number, Map<string, NetworkRule[]>>();
  private readonly v4Prefixes: number[];
  private readonly v4Masks: number[];
  private readonly v6Prefixes: number[];

  constructor(
    readonly rules: readonly NetworkRule[],
    readonly defaults: NetworkDefaults,
  ) {
    for (const r of rules) {
      if (r.host) {
        const map = r.host.kind === "exact" ? this.exact : r.host.kind === "one" ? this.oneLevel : this.anyDepth;
        push(map, r.host.name, r);
      } else if (r.cidr?.v === 4) {
        let byNet = this.v4.get(r.cidr.prefix);
        if (!byNet) this.v4.set(r.cidr.prefix, (byNet = new Map()));
        push(byNet, r.cidr.words[0]!, r);
      } else if (r.cidr?.v === 6) {
        let byNet = this.v6.get(r.cidr.prefix);
        if (!byNet) this.v6.set(r.cidr.prefix, (byNet = new Map()));
        push(byNet, v6Key(r.cidr.words, r.cidr.prefix), r);
      }
    }
    this.v4Prefixes = [...this.v4.keys()].sort((a, b) => b - a);
    this.v4Masks = this.v4Prefixes.map(maskBits);
    this.v6Prefixes = [...this.v6.keys()].sort((a, b) => b - a);
  }

  private addHostCandidates(host: string, port: number, out: NetworkRule[]): void {
    collect(this.exact.get(host), port, out);
    if (this.oneLevel.size === 0 && this.anyDepth.size === 0) return;
    let dot = host.indexOf(".");
    if (dot < 0) return;
    collect(this.oneLevel.get(host.slice(dot + 1)), port, out);
    if (this.anyDepth.size === 0) return;
    while (dot >= 0) {
      collect(this.anyDepth.get(host.slice(dot + 1)), port, out);
      dot = host.indexOf(".", dot + 1);
    }
  }

  private addIpCandidates(ip: Ip, port: number, out: NetworkRule[]): void {
    if (ip.v === 4) {
      for (let i = 0; i < this.v4Prefixes.length; i++) {
        collect(this.v4.get(this.v4Prefixes[i]!)!.get((ip.n & this.v4Masks[i]!) >>> 0), port, out);
      }
    } else {
      for (const p of this.v6Prefixes) collect(this.v6.get(p)!.get(v6Key(ip.w, p)), port, out);
    }
  }

  decide(request: NetworkRequest): Decision {
    const req = normalizeRequest(request);
    if (req.invalid !== undefined) return invalidDecision(req);
    const candidates: NetworkRule[] = [];
    if (req.host !== null) this.addHostCandidates(req.host, req.port, candidates);
    if (req.ip !== null) this.addIpCandidates(req.ip, req.port, candidates);
    return resolveDecision(candidates, req, this.defaults);
  }
}

function collect(list: NetworkRule[] | undefined, port: number, out: NetworkRule[]): void {
  if (list === undefined) return;
  for (let i = 0; i < list.length; i++) if (portMatches(list[i]!, port)) out.push(list[i]!);
}
