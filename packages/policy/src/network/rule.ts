/**
 * Network rules: one allow or deny rule on a host pattern or a CIDR block, optionally narrowed to
 * ports and to HTTP methods and path globs. This module parses the textual shorthand
 * (`host`, `host:port`, `host:8000-8100`, `10.0.0.0/8`, `[2001:db8::/32]:443`) and formats rules
 * for explanations. Matching lives in `match-rule.ts`, indexing in `matcher.ts`.
 */
import picomatch from "picomatch";
import type { Origin } from "../model/origin.js";
import { describeOrigin } from "../model/origin.js";
import { formatHostPattern, parseHostPattern, type HostPattern } from "./host.js";
import { formatCidr, parseCidr, type Cidr } from "./ip.js";

export type Verdict = "allow" | "deny";

export interface PortRange {
  from: number;
  to: number;
}

/** A rule as written (after parsing and validation), with where it came from. */
export interface NetworkRuleSpec {
  action: Verdict;
  host?: HostPattern;
  cidr?: Cidr;
  /** null = any port. */
  ports: PortRange[] | null;
  /** Upper-case HTTP methods; null = any. */
  methods: string[] | null;
  /** Path globs (picomatch syntax, `/v1/**`); null = any. */
  paths: string[] | null;
  origin: Origin;
  /** Where in the policy, e.g. `network.allow[3]`. */
  path: string;
}

/** A rule in the effective policy: numbered (lower id = earlier) and ready to match. */
export interface NetworkRule extends NetworkRuleSpec {
  id: number;
  /** `allow *.github.com:443`. */
  text: string;
  /** `allow *.github.com:443 (project .moat/policy.yaml:7:7)`. */
  label: string;
  /** True when the rule has methods or paths: it only applies to inspected HTTP requests. */
  conditional: boolean;
  methodSet: ReadonlySet<string> | null;
  pathTest: ((path: string) => boolean) | null;
}

export function formatPorts(ports: readonly PortRange[]): string {
  return ports.map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`)).join(",");
}

export function formatRuleTarget(r: Pick<NetworkRuleSpec, "host" | "cidr" | "ports">): string {
  const base = r.host ? formatHostPattern(r.host) : r.cidr ? formatCidr(r.cidr) : "?";
  if (!r.ports) return base;
  const bracket = r.cidr?.v === 6 ? `[${base}]` : base;
  return `${bracket}:${formatPorts(r.ports)}`;
}

export function formatRule(r: NetworkRuleSpec): string {
  const parts = [r.action, formatRuleTarget(r)];
  if (r.methods) parts.push(r.methods.join(","));
  if (r.paths) parts.push(r.paths.join(","));
  return parts.join(" ");
}

/** Turns a validated spec into a numbered rule with its method set and path matcher built. */
export function finishRule(spec: NetworkRuleSpec, id: number): NetworkRule {
  const text = formatRule(spec);
  const pathTest = spec.paths ? picomatch(spec.paths, { dot: true }) : null;
  // One fixed key order for every rule: the matcher's hot loop then sees a single object shape.
  return {
    action: spec.action,
    host: spec.host,
    cidr: spec.cidr,
    ports: spec.ports,
    methods: spec.methods,
    paths: spec.paths,
    origin: spec.origin,
    path: spec.path,
    id,
    text,
    label: `${text} (${describeOrigin(spec.origin)})`,
    conditional: spec.methods !== null || spec.paths !== null,
    methodSet: spec.methods ? new Set(spec.methods) : null,
    pathTest,
  };
}

export type ParseResult<T> = { ok: true; value: T; warning?: string } | { ok: false; message: string; hint: string };

/** Parses `443`, `8000-8100` (one item of a port list). */
export function parsePortRange(text: string): ParseResult<PortRange> {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  const from = m ? Number(m[1]) : NaN;
  const to = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || from < 1 || to > 65535 || from > to)
    return {
      ok: false,
      message: `"${text}" is not a port or port range`,
      hint: "use a port 1..65535 or a range like 8000-8100",
    };
  return { ok: true, value: { from, to } };
}

export interface RuleTarget {
  host?: HostPattern;
  cidr?: Cidr;
  ports: PortRange[] | null;
}

/**
 * Parses the shorthand target of a rule: `host`, `*.host:443`, `10.0.0.0/8`, `10.0.0.0/8:5432`,
 * `[fd00::/8]:443`, `::1`. A bare IP address is a /32 (or /128) CIDR.
 */
export function parseRuleTarget(text: string): ParseResult<RuleTarget> {
  const t = text.trim();
  if (t.length === 0) return { ok: false, message: "empty rule", hint: "write a host name, a pattern like *.example.com or a CIDR block" };
  let addr = t;
  let portText: string | undefined;
  if (t.startsWith("[")) {
    const close = t.indexOf("]");
    if (close < 0) return { ok: false, message: `"${t}" has "[" without "]"`, hint: "write IPv6 with a port as [2001:db8::1]:443" };
    addr = t.slice(1, close);
    const after = t.slice(close + 1);
    if (after.length > 0) {
      if (!after.startsWith(":")) return { ok: false, message: `unexpected "${after}" after "]"`, hint: "write IPv6 with a port as [2001:db8::1]:443" };
      portText = after.slice(1);
    }
  } else {
    const colons = t.split(":").length - 1;
    if (colons === 1) {
      const i = t.indexOf(":");
      addr = t.slice(0, i);
      portText = t.slice(i + 1);
    }
    // Two or more colons: an IPv6 address without port.
  }
  let ports: PortRange[] | null = null;
  if (portText !== undefined) {
    ports = [];
    for (const item of portText.split(",")) {
      const p = parsePortRange(item);
      if (!p.ok) return p;
      ports.push(p.value);
    }
  }
  const looksIp = /^[\d.]+(\/\d+)?$/.test(addr) || addr.includes(":") || /^[\d.]+\/.*$/.test(addr);
  if (looksIp) {
    const c = parseCidr(addr);
    if (!c.ok) return { ok: false, message: `invalid CIDR: ${c.message}`, hint: c.hint };
    return { ok: true, value: { cidr: c.cidr, ports } };
  }
  if (addr.includes("/"))
    return { ok: false, message: `invalid CIDR "${addr}"`, hint: "a CIDR block is an IP address and a prefix length, e.g. 10.0.0.0/8" };
  const h = parseHostPattern(addr);
  if (!h.ok) return h;
  return { ok: true, value: { host: h.pattern, ports }, ...(h.broad ? { warning: h.broad } : {}) };
}

const METHOD = /^[A-Z]+$/;

/** Validates an HTTP method name (case-insensitive; stored upper-case). */
export function parseMethod(text: string): ParseResult<string> {
  const m = text.trim().toUpperCase();
  if (!METHOD.test(m)) return { ok: false, message: `"${text}" is not an HTTP method`, hint: "use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS" };
  return { ok: true, value: m };
}

/** Validates an HTTP path glob: it must start with `/`. */
export function parsePathGlob(text: string): ParseResult<string> {
  if (!text.startsWith("/")) return { ok: false, message: `path "${text}" does not start with "/"`, hint: `write it from the root, e.g. "/${text}"` };
  try {
    picomatch.makeRe(text);
  } catch (e) {
    return { ok: false, message: `path glob "${text}" is invalid: ${(e as Error).message}`, hint: "see picomatch syntax: *, **, {a,b}, [abc]" };
  }
  return { ok: true, value: text };
}
