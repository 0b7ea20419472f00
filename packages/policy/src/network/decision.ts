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
  verdict: Verdict;
  /** The rule that decided, or null when the default (or an invalid request) decided. */
  rule: NetworkRule | null;
  reason: string;
  /** Allowed at connection level, but HTTP requests must be inspected and decided one by one. */
  inspect: boolean;
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
const NUMERIC_LAST_LABEL = /(^|\.)(\d+|0x[0-9a-f]*)$/i;

function normalizePath(p: string): string {
  const q = p.search(/[?#]/);
  let s = q >= 0 ? p.slice(0, q) : p;
  if (/\/\.|%2e|\\/i.test(s)) s = new URL(s, "http://h").pathname;
  return s;
}

export function normalizeRequest(req: NetworkRequest): NormalizedRequest {
  const port = req.port;
  let host: string | null = null;
  let ipText = req.ip;
  if (req.host !== undefined && req.host !== "") {
    const h = req.host.endsWith(".") ? req.host.slice(0, -1) : req.host;
    if (parseIpv4Fast(h) >= 0 || h.includes(":")) {
      // An IP literal in the name position is an address, not a name.
      if (ipText === undefined) ipText = h;
    } else if (NUMERIC_LAST_LABEL.test(h)) {
      // `127.1`, `0x7f.1`: resolvers read these as IPv4 in short forms; never treat them as names.
      return { host, ip: null, port, method: null, path: null, invalid: `"${req.host}" is an IP address in a non-standard form` };
    } else {
      host = normalizeHost(req.host);
      if (host === null) return { host, ip: null, port, method: null, path: null, invalid: `"${h}" is not a valid host name` };
    }
  }
  let ip: Ip | null = null;
  if (ipText !== undefined && ipText !== "") {
    ip = parseIp(ipText);
    if (ip === null) return { host, ip, port, method: null, path: null, invalid: `"${ipText}" is not an IP address` };
  }
  const method = req.method !== undefined ? req.method.toUpperCase() : null;
  const path = req.path !== undefined ? normalizePath(req.path) : null;
  const base = { host, ip, port, method, path };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ...base, invalid: `port ${String(port)} is not in 1..65535` };
  if (host === null && ip === null) return { ...base, invalid: "the request names neither a host nor an IP address" };
  return base;
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
 * Resolves the rules whose target and port match a request into the decision. `candidates` may be
 * in any order and may contain duplicates.
 */
export function resolveDecision(candidates: readonly NetworkRule[], req: NormalizedRequest, defaults: NetworkDefaults): Decision {
  const hasHttp = req.method !== null || req.path !== null;
  let deny: NetworkRule | null = null;
  let allow: NetworkRule | null = null;
  let condAllow: NetworkRule | null = null;
  let condDeny = false;
  for (let i = 0; i < candidates.length; i++) {
    const r = candidates[i]!;
    if (r.conditional) {
      if (!hasHttp) {
        if (r.action === "deny") condDeny = true;
        else if (condAllow === null || r.id < condAllow.id) condAllow = r;
        continue;
      }
      if (!httpMatches(r, req.method, req.path)) continue;
    }
    if (r.action === "deny") {
      if (deny === null || r.id < deny.id) deny = r;
    } else if (allow === null || r.id < allow.id) allow = r;
  }
  if (deny !== null) return { verdict: "deny", rule: deny, reason: "denied by " + deny.label, inspect: false };
  if (allow !== null) return { verdict: "allow", rule: allow, reason: "allowed by " + allow.label, inspect: condDeny };
  if (condAllow !== null)
    return {
      verdict: "allow",
      rule: condAllow,
      reason: "allowed at connection level for HTTP requests matching " + condAllow.label + "; each request is checked",
      inspect: true,
    };
  if (req.host === null && defaults.directIp === "deny")
    return {
      verdict: "deny",
      rule: null,
      reason: `no rule matches ${req.ip ? formatIp(req.ip) : "the address"} and direct connections to IP addresses with no known name are denied (network.directIp: deny)`,
      inspect: false,
    };
  return {
    verdict: defaults.default,
    rule: null,
    reason: (defaults.default === "allow" ? "allowed" : "denied") + " by default: no rule matches (" + defaults.defaultLabel + ")",
    inspect: condDeny && defaults.default === "allow",
  };
}

/** The decision for a malformed request: deny, naming what is wrong. */
export function invalidDecision(req: NormalizedRequest): Decision {
  return { verdict: "deny", rule: null, reason: "invalid request: " + (req.invalid ?? "unknown"), inspect: false };
}
