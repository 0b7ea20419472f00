/**
 * IP addresses and CIDR blocks in the compact forms the network matcher indexes: an IPv4 address is
 * one unsigned 32-bit number, an IPv6 address four. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`)
 * (and the deprecated IPv4-compatible `::10.0.0.1`) are folded to IPv4 so a rule on `10.0.0.0/8`
 * cannot be bypassed by dialing another spelling of the same address.
 * Parsing of policy text uses ipaddr.js; the per-decision IPv4 path is a small strict parser.
 */
import ipaddr from "ipaddr.js";

export type Ip = { v: 4; n: number } | { v: 6; w: [number, number, number, number] };

export interface Cidr {
  v: 4 | 6;
  prefix: number;
  /** Network address with host bits cleared (v4: one word, v6: four words). */
  words: number[];
}

/** Strict dotted-quad parse (no leading zeros, no short forms); returns -1 when not IPv4. */
export function parseIpv4Fast(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return -1;
      n = n * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || parts !== 3) return -1;
  return n * 256 + part;
}

function wordsOfIpv6(addr: ipaddr.IPv6): [number, number, number, number] {
  const p = addr.parts;
  return [
    (((p[0]! << 16) | p[1]!) >>> 0),
    (((p[2]! << 16) | p[3]!) >>> 0),
    (((p[4]! << 16) | p[5]!) >>> 0),
    (((p[6]! << 16) | p[7]!) >>> 0),
  ];
}

function hexValue(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
}

/**
 * Strict IPv6 text parse (RFC 4291: one to four hex digits per group, at most one `::`, optional
 * dotted IPv4 tail) into eight 16-bit groups; null when malformed. A single pass over the
 * characters, because it runs once per decision.
 */
export function parseIpv6Groups(s: string): number[] | null {
  const n = s.length;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (n < 2) return null;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return null;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let j = i;
    for (; j < n; j++) {
      const d = hexValue(s.charCodeAt(j));
      if (d < 0) break;
      v = v * 16 + d;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      const v4 = parseIpv4Fast(s.slice(i));
      if (v4 < 0) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
      break;
    }
    if (j === i || j - i > 4) return null;
    groups.push(v);
    if (j === n) break;
    if (s.charCodeAt(j) !== 58) return null;
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return null;
      gap = groups.length;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === n) return null;
    }
  }
  if (groups.length > 8) return null;
  if (gap >= 0) {
    if (groups.length > 7) return null;
    const zeros = new Array<number>(8 - groups.length).fill(0);
    groups.splice(gap, 0, ...zeros);
  } else if (groups.length !== 8) return null;
  return groups;
}

/**
 * Parses an IP address as a request carries it: dotted IPv4, IPv6 with optional brackets and zone
 * id. IPv4-mapped IPv6 becomes IPv4. Returns null for anything else.
 */
export function parseIp(input: string): Ip | null {
  const v4 = parseIpv4Fast(input);
  if (v4 >= 0) return { v: 4, n: v4 };
  let s = input;
  if (s.charCodeAt(0) === 91 && s.charCodeAt(s.length - 1) === 93) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const g = parseIpv6Groups(s);
  if (g === null) return null;
  const w0 = ((g[0]! << 16) | g[1]!) >>> 0;
  const w1 = ((g[2]! << 16) | g[3]!) >>> 0;
  const w2 = ((g[4]! << 16) | g[5]!) >>> 0;
  const w3 = ((g[6]! << 16) | g[7]!) >>> 0;
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d, but not ::
  // or ::1) are the IPv4 address for every rule, so neither can slip past an IPv4 deny.
  if (w0 === 0 && w1 === 0 && (w2 === 0xffff || (w2 === 0 && w3 > 0xffff))) return { v: 4, n: w3 };
  return { v: 6, w: [w0, w1, w2, w3] };
}

/** Canonical text of an address (IPv4 dotted, IPv6 RFC 5952 compressed). */
export function formatIp(ip: Ip): string {
  if (ip.v === 4) return [ip.n >>> 24, (ip.n >>> 16) & 255, (ip.n >>> 8) & 255, ip.n & 255].join(".");
  const parts: number[] = [];
  for (const w of ip.w) parts.push(w >>> 16, w & 0xffff);
  return new ipaddr.IPv6(parts).toRFC5952String();
}

/** Mask for the first `bits` bits of a 32-bit word (bits in 0..32). */
export function maskBits(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Clears the host bits of `words` beyond `prefix` bits. */
export function maskWords(words: readonly number[], prefix: number): number[] {
  return words.map((w, i) => (w & maskBits(prefix - i * 32)) >>> 0);
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; message: string; hint: string };

/**
 * Parses `a.b.c.d/n`, `x::y/n` or a bare address (a /32 or /128). Host bits must be zero
 * (`10.0.0.1/8` is refused with the network address as the hint). `::ffff:a.b.c.d/n` with n >= 96
 * becomes the IPv4 block it denotes.
 */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf("/");
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const prefixText = slash >= 0 ? text.slice(slash + 1) : undefined;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(addrText)) addr = ipaddr.IPv4.parse(addrText);
  else if (ipaddr.IPv6.isValid(addrText) && !addrText.includes("%")) addr = ipaddr.IPv6.parse(addrText);
  else
    return {
      ok: false,
      message: `"${addrText}" is not an IP address`,
      hint: "write IPv4 as four decimal numbers (10.0.0.0/8) and IPv6 in standard notation (fd00::/8)",
    };
  const max = addr.kind() === "ipv4" ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max)
      return { ok: false, message: `prefix length "/${prefixText}" is not in 0..${max}`, hint: `use a prefix between /0 and /${max}` };
    prefix = Number(prefixText);
  }
  let v: 4 | 6;
  let words: number[];
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    const o = (addr as ipaddr.IPv6).toIPv4Address().octets;
    v = 4;
    words = [((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0];
    prefix -= 96;
  } else if (addr.kind() === "ipv4") {
    const o = (addr as ipaddr.IPv4).octets;
    v = 4;
    words = [((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0];
  } else {
    v = 6;
    words = wordsOfIpv6(addr as ipaddr.IPv6);
  }
  const masked = maskWords(words, prefix);
  if (masked.some((w, i) => w !== words[i])) {
    const net = v === 4 ? formatIp({ v: 4, n: masked[0]! }) : formatIp({ v: 6, w: masked as [number, number, number, number] });
    return {
      ok: false,
      message: `"${text}" has host bits set beyond /${prefix}`,
      hint: `did you mean ${net}/${prefix}?`,
    };
  }
  return { ok: true, cidr: { v, prefix, words: masked } };
}

/** True when `ip` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (ip.v !== cidr.v) return false;
  if (ip.v === 4) return ((ip.n & maskBits(cidr.prefix)) >>> 0) === cidr.words[0];
  for (let i = 0; i < 4; i++) {
    if (((ip.w[i]! & maskBits(cidr.prefix - i * 32)) >>> 0) !== cidr.words[i]) return false;
  }
  return true;
}

export function formatCidr(c: Cidr): string {
  const base = c.v === 4 ? formatIp({ v: 4, n: c.words[0]! }) : formatIp({ v: 6, w: c.words as [number, number, number, number] });
  return `${base}/${c.prefix}`;
}
