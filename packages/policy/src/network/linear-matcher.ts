/**
 * The naive reference matcher: tests every rule against every request. Obviously correct, slow on
 * large policies. Tests check the indexed matcher against it, and `benchmarks/policy` runs it beside
 * the indexed one.
 */
import { hostMatches } from "./host.js";
import { cidrContains } from "./ip.js";
import type { NetworkRule } from "./rule.js";
import {
  classifyHost,
  invalidDecision,
  resolveName,
  type ResolveDecision,
  normalizeRequest,
  portMatches,
  resolveDecision,
  type Decision,
  type NetworkDefaults,
  type NetworkRequest,
} from "./decision.js";

export class LinearMatcher {
  constructor(
    readonly rules: readonly NetworkRule[],
    readonly defaults: NetworkDefaults,
  ) {}

  mayResolve(name: string): ResolveDecision {
    const cls = classifyHost(name);
    if (cls.kind !== "name") return { resolve: false, reason: cls.kind === "ip" ? `"${name}" is an address, not a name` : cls.message };
    return resolveName(this.rules.filter((r) => r.host !== undefined && hostMatches(r.host, cls.host)), this.defaults);
  }

  decide(request: NetworkRequest): Decision {
    const req = normalizeRequest(request);
    if (req.invalid !== undefined) return invalidDecision(req);
    const candidates: NetworkRule[] = [];
    for (const r of this.rules) {
      const targetHit = r.host ? req.host !== null && hostMatches(r.host, req.host) : r.cidr ? req.ip !== null && cidrContains(r.cidr, req.ip) : false;
      if (targetHit && portMatches(r, req.port)) candidates.push(r);
    }
    return resolveDecision(candidates, req, this.defaults);
  }
}
