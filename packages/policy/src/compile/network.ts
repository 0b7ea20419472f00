/**
 * Compiles the effective network section: numbers the rules, builds the indexed matcher, and
 * reports rules that can never take effect. Contradictions (the same match both allowed and denied)
 * are **warnings**, not errors: layering legitimately produces them (a user file allows what a
 * project file denies), and the outcome is well defined — deny wins. Exact duplicates are warnings too.
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { EffectivePolicy } from "../model/policy.js";
import { describeOrigin } from "../model/origin.js";
import { normalizeHost } from "../network/host.js";
import type { Decision, NetworkDefaults, NetworkRequest, ResolveDecision } from "../network/decision.js";
import { IndexedMatcher } from "../network/matcher.js";
import { finishRule, type NetworkRule } from "../network/rule.js";
import { ruleMatchKey } from "../parse/network-section.js";

/** How the egress layer describes one outgoing connection (see README "Names and IPs"). */
export interface ConnectionRequest {
  /** The address the host will dial (always the egress layer's own resolution, never the guest's word). */
  ip: string;
  port: number;
  /** Every name the connection claims: DNS answers given out for this IP, CONNECT target, SNI, Host. */
  names: readonly string[];
  method?: string;
  path?: string;
}

export interface NetworkPlan {
  rules: readonly NetworkRule[];
  defaults: NetworkDefaults;
  /** Decides one request. */
  decide(request: NetworkRequest): Decision;
  /**
   * Decides a connection that may carry several names: with no name the IP alone decides
   * (`directIp` applies); otherwise every name is decided together with the IP and any deny wins.
   */
  decideConnection(request: ConnectionRequest): Decision;
  /** Whether the egress DNS stub may resolve `name` for the guest (DNS queries are a way out too). */
  mayResolve(name: string): ResolveDecision;
}

export function compileNetwork(policy: EffectivePolicy, bag: DiagnosticBag): NetworkPlan {
  const rules = policy.network.rules.map((spec, i) => finishRule(spec, i));
  const seen = new Map<string, NetworkRule>();
  for (const r of rules) {
    const key = ruleMatchKey(r);
    const prev = seen.get(key);
    if (!prev) {
      seen.set(key, r);
      continue;
    }
    const where = { file: r.origin.file, ...(r.origin.line !== undefined ? { line: r.origin.line, column: r.origin.column } : {}), path: r.path };
    if (prev.action === r.action) {
      if (r.origin.kind !== "builtin")
        bag.warning("duplicate-rule", `"${r.text}" repeats the rule at ${describeOrigin(prev.origin)}`, where, "remove one of them");
    } else {
      const [allow, deny] = prev.action === "allow" ? [prev, r] : [r, prev];
      bag.warning(
        "contradictory-rule",
        `"${key.replace(/^allow /, "")}" is both allowed (${describeOrigin(allow.origin)}) and denied (${describeOrigin(deny.origin)}); deny wins, the allow never takes effect`,
        where,
        "remove the rule you do not mean",
      );
    }
  }
  const defaults: NetworkDefaults = {
    default: policy.network.default.value,
    directIp: policy.network.directIp.value,
    defaultLabel: `network.default: ${policy.network.default.value} from ${describeOrigin(policy.network.default.origin)}`,
  };
  const matcher = new IndexedMatcher(rules, defaults);
  const decide = (request: NetworkRequest) => matcher.decide(request);
  return {
    rules,
    defaults,
    decide,
    mayResolve: (name) => matcher.mayResolve(name),
    decideConnection(request) {
      const base = { ip: request.ip, port: request.port, ...(request.method !== undefined ? { method: request.method } : {}), ...(request.path !== undefined ? { path: request.path } : {}) };
      const names = [...new Set(request.names.map((n) => normalizeHost(n) ?? n))];
      if (names.length === 0) return decide(base);
      let first: Decision | null = null;
      for (const host of names) {
        const d = decide({ ...base, host });
        if (d.verdict === "deny") return d;
        if (first === null || (d.inspect && !first.inspect)) first = d;
      }
      return first!;
    },
  };
}
