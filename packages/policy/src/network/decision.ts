/**
 * The decision semantics shared by the indexed matcher and the linear reference matcher:
 * request normalisation, per-rule matching and the resolution of the matching rules into one
 * verdict. **Deny wins**: any matching deny rule denies, whatever allows. Among rules of the same
 * action the earliest in the effective policy is reported.
 *
 * Rules with HTTP methods or paths ("conditional" rules) only match a request that carries a method
 * and path. At connection level (no method/path known yet) they cannot grant or refuse on their own:
 * the decision then says `inspect: true`, telling the egress layer to terminate HTTP and decide again
 * for every request.
 */
import { normalizeHost } from "./host.js";
import { formatIp, parseIp, parseIpv4Fast, type Ip } from "./ip.js";
import type { NetworkRule, Verdict } from "./rule.js";

/**
 * What the egress layer asks about. `host` is the name the guest used (DNS answer it was given,
 * CONNECT target, SNI or Host header); `ip` is the address actually dialled. See README "Names and IPs".
 */
export interface NetworkRequest {
  host?: string;
  ip?: string;
  port: number;
  method?: string;
  path?: string;
}

export interface Decision {
  readonly verdict: Verdict;
  /** The rule that decided, or null when the default (or an invalid request) decided. */
  readonly rule: NetworkRule | null;
  /** Why, naming the rule and where it came from (built when read). */
  readonly reason: string;
  /** Allowed at connection level, but HTTP requests must be inspected and decided one by one. */
  readonly inspect: boolean;
}

/** The network settings that apply when no rule matches. */
export interface NetworkDefaults {
  default: Verdict;
  /** Whether a connection to an IP with no known name may fall through to `default: allow`. */
  directIp: Verdict;
  /** Human text for the origin of `default`, e.g. `preset balanced`. */
  defaultLabel: string;
}

export interface NormalizedRequest {
  host: string | null;
  ip: Ip | null;
  port: number;
  method: string | null;
  path: string | null;
  /** Set when the request itself is malformed; the decision is then deny with this reason. */
  invalid?: string;
}

/** A last label of digits (or 0x-hex) makes a URL host an IPv4 address (WHATWG URL). */
function numericLastLabel(h: string): boolean {
  const c = h.charCodeAt(h.length - 1);
  if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 120 || c === 88)) return false;
  return /(^|\.)(\d+|0x[0-9a-f]*)$/i.test(h);
}

export function normalizePath(p: string): string {
  const q = p.search(/[?#]/);
  let s = q >= 0 ? p.slice(0, q) : p;
  if (/\/\.|%2e|\\/i.test(s)) s = new URL(s, "http://h").pathname;
  return s;
}

/** What the `host` field of a request turned out to be. */
export type HostClass = { kind: "name"; host: string } | { kind: "ip"; text: string } | { kind: "invalid"; message: string };

/** Classifies and normalises a request's `host` field (an IP literal in the name position is an address). */
export function classifyHost(raw: string): HostClass {
  const h = raw.endsWith(".") ? raw.slice(0, -1) : raw;
  const colon = h.indexOf(":");
  if (colon >= 0 && h.indexOf(":", colon + 1) < 0 && h.charCodeAt(0) !== 91)
    return { kind: "invalid", message: `"${raw}" includes a port; pass the host name and the port separately` };
  if (colon >= 0 || parseIpv4Fast(h) >= 0) return { kind: "ip", text: h };
  // `127.1`, `0x7f.1`: resolvers read these as IPv4 in short forms; never treat them as names.
  if (numericLastLabel(h)) return { kind: "invalid", message: `"${raw}" is an IP address in a non-standard form` };
  const host = normalizeHost(raw);
  return host === null ? { kind: "invalid", message: `"${raw}" is not a valid host name` } : { kind: "name", host };
}

export function normalizeRequest(req: NetworkRequest): NormalizedRequest {
  return normalizeRequestWith(req, req.host !== undefined && req.host !== "" ? classifyHost(req.host) : null);
}

/** Normalises a request whose host field was already classified (matchers cache `classifyHost`). */
export function normalizeRequestWith(req: NetworkRequest, hostClass: HostClass | null): NormalizedRequest {
  const port = req.port;
  let host: string | null = null;
  let ipText = req.ip;
  if (hostClass !== null) {
    if (hostClass.kind === "name") host = hostClass.host;
    else if (hostClass.kind === "ip") {
      if (ipText === undefined) ipText = hostClass.text;
    } else return { host, ip: null, port, method: null, path: null, invalid: hostClass.message };
  }
  let ip: Ip | null = null;
  if (ipText !== undefined && ipText !== "") {
    ip = parseIp(ipText);
    if (ip === null) return { host, ip, port, method: null, path: null, invalid: `"${ipText}" is not an IP address` };
  }
  const method = req.method !== undefined ? req.method.toUpperCase() : null;
  const path = req.path !== undefined ? normalizePath(req.path) : null;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { host, ip, port, method, path, invalid: `port ${String(port)} is not in 1..65535` };
  if (host === null && ip === null) return { host, ip, port, method, path, invalid: "the request names neither a host nor an IP address" };
  return { host, ip, port, method, path };
}

/** Port and HTTP conditions of one rule (the target was already matched by the caller). */
export function portMatches(rule: NetworkRule, port: number): boolean {
  const ports = rule.ports;
  if (ports === null) return true;
  for (let i = 0; i < ports.length; i++) {
    const r = ports[i]!;
    if (port >= r.from && port <= r.to) return true;
  }
  return false;
}

export function httpMatches(rule: NetworkRule, method: string | null, path: string | null): boolean {
  if (rule.methodSet !== null && (method === null || !rule.methodSet.has(method))) return false;
  if (rule.pathTest !== null && (path === null || !rule.pathTest(path))) return false;
  return true;
}

/**
 * Folds the rules whose target and port match a request into one decision, rule by rule in any
 * order (duplicates allowed). One instance is reused across decisions by a matcher.
 */
export class DecisionAccumulator {
  private deny: NetworkRule | null = null;
  private allow: NetworkRule | null = null;
  private condAllow: NetworkRule | null = null;
  private condDeny = false;
  private hasHttp = false;
  private method: string | null = null;
  private path: string | null = null;

  reset(req: Pick<NormalizedRequest, "method" | "path">): void {
    this.resetHttp(req.method, req.path);
  }

  resetHttp(method: string | null, path: string | null): void {
    this.deny = this.allow = this.condAllow = null;
    this.condDeny = false;
    this.method = method;
    this.path = path;
    this.hasHttp = method !== null || path !== null;
  }

  offer(r: NetworkRule): void {
    if (r.conditional) {
      if (!this.hasHttp) {
        if (r.action === "deny") this.condDeny = true;
        else if (this.condAllow === null || r.id < this.condAllow.id) this.condAllow = r;
        return;
      }
      if (!httpMatches(r, this.method, this.path)) return;
    }
    if (r.action === "deny") {
      if (this.deny === null || r.id < this.deny.id) this.deny = r;
    } else if (this.allow === null || r.id < this.allow.id) this.allow = r;
  }

  finish(req: Pick<NormalizedRequest, "host" | "ip">, defaults: NetworkDefaults): Decision {
    return this.finishWith(req.host === null, req.ip, -1, defaults);
  }

  /** The address is `ip`, or the IPv4 number `ip4` (>= 0) so the fast path allocates no address object. */
  finishWith(noName: boolean, ip: Ip | null, ip4: number, defaults: NetworkDefaults): Decision {
    const { deny, allow, condAllow, condDeny } = this;
    if (deny !== null) return new RuleDecision("deny", deny, false, "denied by ");
    if (allow !== null) return new RuleDecision("allow", allow, condDeny, "allowed by ");
    if (condAllow !== null) return new RuleDecision("allow", condAllow, true, "allowed at connection level for HTTP requests matching ");
    if (noName && defaults.directIp === "deny") return new DirectIpDecision(ip !== null ? ip : ip4 >= 0 ? { v: 4, n: ip4 } : null);
    return new DefaultDecision(defaults, condDeny && defaults.default === "allow");
  }
}

/*
 * Decisions are small classes whose `reason` text is built only when read: the egress layer logs
 * reasons, but a benchmark or a busy proxy should not pay for string building on every decision.
 */
class RuleDecision implements Decision {
  constructor(
    readonly verdict: Verdict,
    readonly rule: NetworkRule,
    readonly inspect: boolean,
    private readonly prefix: string,
  ) {}

  get reason(): string {
    return this.prefix + this.rule.label + (this.prefix.startsWith("allowed at") ? "; each request is checked" : "");
  }

  toJSON() {
    return { verdict: this.verdict, rule: this.rule.text, inspect: this.inspect, reason: this.reason };
  }
}

class DirectIpDecision implements Decision {
  readonly verdict = "deny" as const;
  readonly rule = null;
  readonly inspect = false;
  constructor(private readonly ip: Ip | null) {}

  get reason(): string {
    return `no rule matches ${this.ip ? formatIp(this.ip) : "the address"} and direct connections to IP addresses with no known name are denied (network.directIp: deny)`;
  }

  toJSON() {
    return { verdict: this.verdict, rule: null, inspect: false, reason: this.reason };
  }
}

class DefaultDecision implements Decision {
  readonly verdict: Verdict;
  readonly rule = null;
  constructor(
    private readonly defaults: NetworkDefaults,
    readonly inspect: boolean,
  ) {
    this.verdict = defaults.default;
  }

  get reason(): string {
    return `${this.verdict === "allow" ? "allowed" : "denied"} by default: no rule matches (${this.defaults.defaultLabel})`;
  }

  toJSON() {
    return { verdict: this.verdict, rule: null, inspect: this.inspect, reason: this.reason };
  }
}

/** Resolves a list of matching rules (target and port already matched) into the decision. */
export function resolveDecision(candidates: readonly NetworkRule[], req: NormalizedRequest, defaults: NetworkDefaults): Decision {
  const acc = new DecisionAccumulator();
  acc.reset(req);
  for (const r of candidates) acc.offer(r);
  return acc.finish(req, defaults);
}

/** Whether the egress DNS stub may resolve a name for the guest (see README "DNS"). */
export interface ResolveDecision {
  resolve: boolean;
  reason: string;
}

/**
 * DNS semantics shared by both matchers, given every host rule matching the name (any port):
 * refuse when a deny rule on all ports with no method/path matches; resolve when any allow rule
 * matches (on some port, perhaps only for some requests); otherwise follow `default`.
 */
export function resolveName(hostRules: readonly NetworkRule[], defaults: NetworkDefaults): ResolveDecision {
  let allow: NetworkRule | null = null;
  let deny: NetworkRule | null = null;
  for (const r of hostRules) {
    if (r.action === "deny") {
      if (!r.conditional && r.ports === null && (deny === null || r.id < deny.id)) deny = r;
    } else if (allow === null || r.id < allow.id) allow = r;
  }
  if (deny !== null) return { resolve: false, reason: "not resolved: denied on every port by " + deny.label };
  if (allow !== null) return { resolve: true, reason: "resolved: " + allow.label + " allows it on some port" };
  return defaults.default === "allow"
    ? { resolve: true, reason: "resolved: no rule names it and network.default is allow" }
    : { resolve: false, reason: "not resolved: no allow rule names it (network.default: deny); names reached only through a CIDR allow are not resolved" };
}

/** The decision for a malformed request: deny, naming what is wrong. */
export function invalidDecision(req: Pick<NormalizedRequest, "invalid">): Decision {
  return { verdict: "deny", rule: null, reason: "invalid request: " + (req.invalid ?? "unknown"), inspect: false };
}
