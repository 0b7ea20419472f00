/**
 * Host names and host patterns. Every name is normalised the same way in rules and in requests:
 * IDN → punycode (`url.domainToASCII`, which also lower-cases and applies UTS #46 mapping), one
 * trailing dot dropped, ASCII lower-cased. Patterns are `exact.host`, `*.x` (exactly one more label)
 * and `**.x` (one or more more labels; neither wildcard matches `x` itself).
 */
import { domainToASCII } from "node:url";

export type HostPatternKind = "exact" | "one" | "any";

export interface HostPattern {
  kind: HostPatternKind;
  /** The normalised name (`exact`) or the suffix after `*.` / `**.`. */
  name: string;
}

function isPlainAsciiHostChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95;
}

/**
 * Normalises a host name from a request. Fast path for plain ASCII; anything else goes through
 * `domainToASCII`. Returns null when the name is empty or not a valid domain name.
 */
export function normalizeHost(input: string): string | null {
  let s = input;
  if (s.length > 0 && s.charCodeAt(s.length - 1) === 46) s = s.slice(0, -1);
  if (s.length === 0) return null;
  let plain = true;
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper = true;
    else if (!isPlainAsciiHostChar(c)) {
      plain = false;
      break;
    }
  }
  if (plain) {
    if (s.charCodeAt(0) === 46 || s.charCodeAt(s.length - 1) === 46 || s.includes("..")) return null;
    return upper ? s.toLowerCase() : s;
  }
  const ascii = domainToASCII(s);
  if (ascii === "") return null;
  return ascii.endsWith(".") ? ascii.slice(0, -1) : ascii;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Checks a normalised name label by label (RFC 1035 lengths; underscores allowed for SRV-style names). */
export function validHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split(".").every((l) => LABEL.test(l) || (l.startsWith("xn--") && l.length <= 63));
}

export type HostPatternParse =
  | { ok: true; pattern: HostPattern; broad?: string }
  | { ok: false; message: string; hint: string };

/** Parses a host pattern written in a policy. */
export function parseHostPattern(text: string): HostPatternParse {
  let kind: HostPatternKind = "exact";
  let rest = text;
  if (rest.startsWith("**.")) {
    kind = "any";
    rest = rest.slice(3);
  } else if (rest.startsWith("*.")) {
    kind = "one";
    rest = rest.slice(2);
  }
  if (text === "*" || text === "**")
    return {
      ok: false,
      message: `"${text}" would match every host`,
      hint: "set `network.default: allow` (or the `open` preset) instead of a match-everything rule",
    };
  if (rest.includes("*"))
    return {
      ok: false,
      message: `"${text}" has a wildcard in the wrong place`,
      hint: "a wildcard may only be the first label: `*.example.com` (one level) or `**.example.com` (any depth)",
    };
  const name = normalizeHost(rest);
  if (name !== null && /(^|\.)(\d+|0x[0-9a-f]*)$/.test(name))
    return {
      ok: false,
      message: `"${text}" ends in a numeric label, which resolvers read as an IP address`,
      hint: "write an IP address as four decimal numbers (10.0.0.1) or a CIDR block (10.0.0.0/8)",
    };
  if (name === null || !validHostName(name))
    return {
      ok: false,
      message: `"${text}" is not a valid host name`,
      hint: "use letters, digits and hyphens in dot-separated labels, e.g. api.example.com",
    };
  const broad = kind !== "exact" && !name.includes(".") ? `"${text}" matches every name under the top-level domain .${name}` : undefined;
  return { ok: true, pattern: { kind, name }, ...(broad ? { broad } : {}) };
}

/** True when a normalised host matches the pattern. */
export function hostMatches(p: HostPattern, host: string): boolean {
  if (p.kind === "exact") return host === p.name;
  const cut = host.length - p.name.length - 1;
  if (cut <= 0 || host.charCodeAt(cut) !== 46 || !host.endsWith(p.name)) return false;
  return p.kind === "any" || host.lastIndexOf(".", cut - 1) === -1;
}

export function formatHostPattern(p: HostPattern): string {
  return p.kind === "exact" ? p.name : p.kind === "one" ? `*.${p.name}` : `**.${p.name}`;
}
