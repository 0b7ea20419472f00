/**
 * A deterministic 1,000-rule policy and a request corpus for the benchmark. The policy is written as
 * YAML text and goes through the real parser and compiler. Rules mix exact hosts, `*.` and `**.`
 * patterns, ports, IPv4 and IPv6 CIDR blocks, and method/path rules; requests mix hits and misses,
 * names with and without the resolved IP, direct IPs, mixed case and trailing dots.
 */
import type { NetworkRequest } from "@moat/policy";

/** mulberry32: a tiny seeded PRNG so every run uses the same policy and requests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["api", "cdn", "static", "auth", "login", "data", "img", "files", "docs", "edge", "eu", "us", "v2", "internal", "mirror"];
const TLDS = ["com", "net", "org", "io", "dev"];

export interface Fixture {
  yaml: string;
  ruleCount: number;
  requests: NetworkRequest[];
}

export function makeFixture(ruleCount = 1000, requestCount = 20_000, seed = 42): Fixture {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const domain = (i: number) => `site${i}.${pick(TLDS)}`;
  const allow: string[] = [];
  const deny: string[] = [];
  const names: string[] = [];
  const v4: string[] = [];
  for (let i = 0; i < ruleCount; i++) {
    const list = rnd() < 0.2 ? deny : allow;
    const kind = rnd();
    const d = domain(i);
    if (kind < 0.4) {
      const host = `${pick(WORDS)}.${d}`;
      names.push(host);
      list.push(rnd() < 0.5 ? `"${host}"` : `"${host}:443"`);
    } else if (kind < 0.6) {
      names.push(`${pick(WORDS)}.${d}`);
      list.push(`"*.${d}"`);
    } else if (kind < 0.75) {
      names.push(`${pick(WORDS)}.${pick(WORDS)}.${d}`);
      list.push(rnd() < 0.5 ? `"**.${d}"` : `"**.${d}:80,443"`);
    } else if (kind < 0.88) {
      const a = 11 + (i % 200);
      const b = Math.floor(rnd() * 256);
      const prefix = pick([8, 16, 24, 28, 32]);
      const base = prefix <= 8 ? `${a}.0.0.0` : prefix <= 16 ? `${a}.${b}.0.0` : `${a}.${b}.${Math.floor(rnd() * 16) * 16}.0`;
      const cidr = prefix === 32 ? base.replace(/\.0$/, ".1") : `${base}/${prefix}`;
      v4.push(base.replace(/\.0$/, ".1"));
      list.push(`"${cidr}"`);
    } else if (kind < 0.94) {
      list.push(`"2001:db8:${(i % 0xffff).toString(16)}::/48"`);
    } else {
      const host = `${pick(WORDS)}.${d}`;
      names.push(host);
      list.push(`{host: "${host}", methods: [GET, POST], paths: ["/v1/**"]}`);
    }
  }
  const yaml = `network:\n  preset: locked\n  allow:\n${allow.map((r) => `    - ${r}\n`).join("")}  deny:\n${deny.map((r) => `    - ${r}\n`).join("")}`;
  const requests: NetworkRequest[] = [];
  for (let i = 0; i < requestCount; i++) {
    const r = rnd();
    const port = pick([443, 443, 443, 80, 8080]);
    if (r < 0.45) {
      const host = pick(names);
      requests.push({ host: rnd() < 0.1 ? `${host.toUpperCase()}.` : host, ip: `93.184.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`, port });
    } else if (r < 0.6) {
      requests.push({ host: `${pick(WORDS)}.unknown${i}.${pick(TLDS)}`, ip: "198.51.100.7", port });
    } else if (r < 0.75) {
      requests.push({ ip: pick(v4), port });
    } else if (r < 0.8) {
      requests.push({ ip: `2001:db8:${Math.floor(rnd() * 0xffff).toString(16)}::1`, port });
    } else if (r < 0.9) {
      requests.push({ host: pick(names), port, method: pick(["GET", "POST", "DELETE"]), path: pick(["/v1/models", "/v2/x", "/"]) });
    } else {
      requests.push({ host: `${pick(WORDS)}.${pick(names)}`, port });
    }
  }
  // One object shape for every request, as an egress call site building `{host, ip, port, method,
  // path}` would produce; absent fields are undefined.
  const uniform = requests.map((r) => ({ host: r.host, ip: r.ip, port: r.port, method: r.method, path: r.path }));
  return { yaml, ruleCount, requests: uniform };
}
