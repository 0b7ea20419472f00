/**
 * Table-driven network decisions (more than 150 cases): exact/`*.`/`**.` patterns, IDN and
 * punycode, case, trailing dots, ports and ranges, IPv4/IPv6 CIDR incl. IPv4-mapped IPv6,
 * deny-wins, HTTP methods and paths, direct IPs, invalid requests. Every case is decided by the
 * indexed matcher and by the linear reference matcher, which must agree.
 */
import { describe, expect, test } from "vitest";
import { networkFromYaml } from "./helpers.js";

const POLICY = `
network:
  preset: locked
  allow:
    - example.com
    - "*.one.test"
    - "**.any.test"
    - "ports.test:443"
    - "range.test:8000-8100"
    - "multi.test:80,443"
    - "bücher.de"
    - "xn--mnchen-3ya.de:443"
    - "ＥＸＡＭＰＬＥ.jp"
    - "203.0.113.0/24"
    - "198.51.100.7"
    - "2001:db8::/32"
    - "[2001:db8:1::/48]:443"
    - "192.0.2.0/24:22"
    - "10.1.0.0/16"
    - host: api.http.test
      methods: [GET, head]
      paths: ["/v1/**", "/health"]
    - "**.mixed.test"
    - host: upload.test
      methods: [POST]
  deny:
    - bad.one.test
    - secret.any.test
    - "**.deep.mixed.test"
    - "203.0.113.128/25"
    - "2001:db8:dead::/48"
    - host: api.http.test
      methods: [DELETE]
    - host: api.http.test
      paths: ["/v1/admin/**"]
    - "ports.test:8443"
    - "**.example.com:25"
`;

type Row = [label: string, req: { host?: string; ip?: string; port: number; method?: string; path?: string }, verdict: "allow" | "deny", rule?: string | null, inspect?: boolean];

const base: Row[] = [
  // exact
  ["exact host", { host: "example.com", port: 443 }, "allow", "allow example.com"],
  ["exact host any port", { host: "example.com", port: 8080 }, "allow", "allow example.com"],
  ["exact does not cover sub", { host: "www.example.com", port: 443 }, "deny", null],
  ["exact does not cover parent", { host: "com", port: 443 }, "deny", null],
  ["exact no suffix confusion", { host: "badexample.com", port: 443 }, "deny", null],
  ["exact deny smtp via **", { host: "mail.example.com", port: 25 }, "deny", "deny **.example.com:25"],
  ["** port deny does not hit apex", { host: "example.com", port: 25 }, "allow", "allow example.com"],
  // one level
  ["*. one level", { host: "a.one.test", port: 443 }, "allow", "allow *.one.test"],
  ["*. one level other", { host: "zz-9.one.test", port: 1 }, "allow", "allow *.one.test"],
  ["*. not apex", { host: "one.test", port: 443 }, "deny", null],
  ["*. not two levels", { host: "a.b.one.test", port: 443 }, "deny", null],
  ["*. deny exact child wins", { host: "bad.one.test", port: 443 }, "deny", "deny bad.one.test"],
  ["*. deny exact child is exact only", { host: "x.bad.one.test", port: 443 }, "deny", null],
  ["*. suffix confusion", { host: "a.xone.test", port: 443 }, "deny", null],
  // any depth
  ["** one level", { host: "a.any.test", port: 443 }, "allow", "allow **.any.test"],
  ["** two levels", { host: "a.b.any.test", port: 443 }, "allow", "allow **.any.test"],
  ["** five levels", { host: "a.b.c.d.e.any.test", port: 443 }, "allow", "allow **.any.test"],
  ["** not apex", { host: "any.test", port: 443 }, "deny", null],
  ["** suffix confusion", { host: "notany.test", port: 443 }, "deny", null],
  ["** deny exact inside", { host: "secret.any.test", port: 443 }, "deny", "deny secret.any.test"],
  ["** deny exact inside is exact", { host: "x.secret.any.test", port: 443 }, "allow", "allow **.any.test"],
  ["** allow vs ** deny deeper", { host: "x.deep.mixed.test", port: 443 }, "deny", "deny **.deep.mixed.test"],
  ["** deny deeper any depth", { host: "a.b.deep.mixed.test", port: 80 }, "deny", "deny **.deep.mixed.test"],
  ["** deny apex not covered", { host: "deep.mixed.test", port: 443 }, "allow", "allow **.mixed.test"],
  ["** allow sibling", { host: "shallow.mixed.test", port: 443 }, "allow", "allow **.mixed.test"],
  // ports
  ["port exact", { host: "ports.test", port: 443 }, "allow", "allow ports.test:443"],
  ["port other", { host: "ports.test", port: 80 }, "deny", null],
  ["port denied explicitly", { host: "ports.test", port: 8443 }, "deny", "deny ports.test:8443"],
  ["range low", { host: "range.test", port: 8000 }, "allow", "allow range.test:8000-8100"],
  ["range mid", { host: "range.test", port: 8050 }, "allow", "allow range.test:8000-8100"],
  ["range high", { host: "range.test", port: 8100 }, "allow", "allow range.test:8000-8100"],
  ["range below", { host: "range.test", port: 7999 }, "deny", null],
  ["range above", { host: "range.test", port: 8101 }, "deny", null],
  ["multi 80", { host: "multi.test", port: 80 }, "allow", "allow multi.test:80,443"],
  ["multi 443", { host: "multi.test", port: 443 }, "allow", "allow multi.test:80,443"],
  ["multi 8080", { host: "multi.test", port: 8080 }, "deny", null],
  ["port 0 invalid", { host: "example.com", port: 0 }, "deny", null],
  ["port 65536 invalid", { host: "example.com", port: 65536 }, "deny", null],
  ["port 65535 valid", { host: "example.com", port: 65535 }, "allow", "allow example.com"],
  ["port fraction invalid", { host: "example.com", port: 44.3 }, "deny", null],
  // IDN / punycode
  ["IDN unicode rule, unicode request", { host: "bücher.de", port: 443 }, "allow", "allow xn--bcher-kva.de"],
  ["IDN unicode rule, punycode request", { host: "xn--bcher-kva.de", port: 443 }, "allow", "allow xn--bcher-kva.de"],
  ["IDN uppercase unicode", { host: "BÜCHER.DE", port: 443 }, "allow", "allow xn--bcher-kva.de"],
  ["IDN trailing dot", { host: "bücher.de.", port: 443 }, "allow", "allow xn--bcher-kva.de"],
  ["IDN lookalike not matched", { host: "bucher.de", port: 443 }, "deny", null],
  ["punycode rule, unicode request", { host: "münchen.de", port: 443 }, "allow", "allow xn--mnchen-3ya.de:443"],
  ["punycode rule, punycode request", { host: "xn--mnchen-3ya.de", port: 443 }, "allow", "allow xn--mnchen-3ya.de:443"],
  ["punycode rule, wrong port", { host: "münchen.de", port: 80 }, "deny", null],
  ["fullwidth rule", { host: "example.jp", port: 443 }, "allow", "allow example.jp"],
  ["fullwidth request", { host: "ｅｘａｍｐｌｅ.jp", port: 443 }, "allow", "allow example.jp"],
  ["ideographic full stop", { host: "example。jp", port: 443 }, "allow", "allow example.jp"],
  ["invalid punycode", { host: "xn--zz.de", port: 443 }, "deny", null],
  // case and trailing dots
  ["upper case host", { host: "EXAMPLE.COM", port: 443 }, "allow", "allow example.com"],
  ["mixed case host", { host: "ExAmPlE.CoM", port: 443 }, "allow", "allow example.com"],
  ["trailing dot", { host: "example.com.", port: 443 }, "allow", "allow example.com"],
  ["upper + trailing dot", { host: "A.ONE.TEST.", port: 443 }, "allow", "allow *.one.test"],
  ["double trailing dot invalid", { host: "example.com..", port: 443 }, "deny", null],
  ["leading dot invalid", { host: ".example.com", port: 443 }, "deny", null],
  ["empty label invalid", { host: "a..one.test", port: 443 }, "deny", null],
  ["case deny", { host: "BAD.ONE.TEST", port: 443 }, "deny", "deny bad.one.test"],
  ["trailing dot deny", { host: "secret.any.test.", port: 443 }, "deny", "deny secret.any.test"],
  // IPv4 CIDR
  ["v4 in /24", { ip: "203.0.113.5", port: 443 }, "allow", "allow 203.0.113.0/24"],
  ["v4 /24 first", { ip: "203.0.113.0", port: 443 }, "allow", "allow 203.0.113.0/24"],
  ["v4 deny /25 in /24", { ip: "203.0.113.200", port: 443 }, "deny", "deny 203.0.113.128/25"],
  ["v4 deny /25 boundary", { ip: "203.0.113.128", port: 443 }, "deny", "deny 203.0.113.128/25"],
  ["v4 below deny /25", { ip: "203.0.113.127", port: 443 }, "allow", "allow 203.0.113.0/24"],
  ["v4 outside", { ip: "203.0.114.1", port: 443 }, "deny", null],
  ["v4 single", { ip: "198.51.100.7", port: 80 }, "allow", "allow 198.51.100.7/32"],
  ["v4 single neighbour", { ip: "198.51.100.8", port: 80 }, "deny", null],
  ["v4 cidr with port", { ip: "192.0.2.9", port: 22 }, "allow", "allow 192.0.2.0/24:22"],
  ["v4 cidr wrong port", { ip: "192.0.2.9", port: 23 }, "deny", null],
  ["v4 allowed inside denied 10/8: deny wins", { ip: "10.1.2.3", port: 443 }, "deny", "deny 10.0.0.0/8"],
  ["v4 loopback denied", { ip: "127.0.0.1", port: 80 }, "deny", "deny 127.0.0.0/8"],
  ["v4 metadata denied", { ip: "169.254.169.254", port: 80 }, "deny", "deny 169.254.0.0/16"],
  ["v4 private 192.168", { ip: "192.168.1.1", port: 80 }, "deny", "deny 192.168.0.0/16"],
  ["v4 172.16/12 edge in", { ip: "172.31.255.255", port: 80 }, "deny", "deny 172.16.0.0/12"],
  ["v4 172.16/12 edge out", { ip: "172.32.0.1", port: 80 }, "deny", null],
  ["v4 leading zero invalid", { ip: "010.0.0.1", port: 80 }, "deny", null],
  ["v4 short form invalid", { ip: "127.1", port: 80 }, "deny", null],
  ["v4 short form as host invalid", { host: "127.1", port: 80 }, "deny", null],
  ["hex form as host invalid", { host: "0x7f.0x1", port: 80 }, "deny", null],
  ["v4 octet >255 invalid", { ip: "1.2.3.256", port: 80 }, "deny", null],
  // IPv4-mapped IPv6
  ["mapped v6 allowed v4", { ip: "::ffff:203.0.113.5", port: 443 }, "allow", "allow 203.0.113.0/24"],
  ["mapped v6 hex form", { ip: "::ffff:cb00:7105", port: 443 }, "allow", "allow 203.0.113.0/24"],
  ["mapped v6 cannot bypass deny", { ip: "::ffff:203.0.113.200", port: 443 }, "deny", "deny 203.0.113.128/25"],
  ["mapped v6 loopback", { ip: "::ffff:127.0.0.1", port: 443 }, "deny", "deny 127.0.0.0/8"],
  ["mapped v6 bracketed", { ip: "[::ffff:10.9.9.9]", port: 443 }, "deny", "deny 10.0.0.0/8"],
  ["mapped v6 upper case", { ip: "::FFFF:198.51.100.7", port: 443 }, "allow", "allow 198.51.100.7/32"],
  // IPv6 CIDR
  ["v6 /32", { ip: "2001:db8:abcd::1", port: 443 }, "allow", "allow 2001:db8::/32"],
  ["v6 /32 any port", { ip: "2001:db8:abcd::1", port: 22 }, "allow", "allow 2001:db8::/32"],
  ["v6 /48 with port", { ip: "2001:db8:1::5", port: 443 }, "allow", "allow 2001:db8::/32"],
  ["v6 deny /48 wins", { ip: "2001:db8:dead::1", port: 443 }, "deny", "deny 2001:db8:dead::/48"],
  ["v6 deny /48 last address", { ip: "2001:db8:dead:ffff:ffff:ffff:ffff:ffff", port: 443 }, "deny", "deny 2001:db8:dead::/48"],
  ["v6 next /48 allowed", { ip: "2001:db8:deae::1", port: 443 }, "allow", "allow 2001:db8::/32"],
  ["v6 outside", { ip: "2001:db9::1", port: 443 }, "deny", null],
  ["v6 loopback", { ip: "::1", port: 443 }, "deny", "deny ::1/128"],
  ["v6 ULA", { ip: "fd12:3456::1", port: 443 }, "deny", "deny fc00::/7"],
  ["v6 link local with zone", { ip: "fe80::1%eth0", port: 443 }, "deny", "deny fe80::/10"],
  ["v6 uncompressed", { ip: "2001:0db8:0000:0000:0000:0000:0000:0001", port: 443 }, "allow", "allow 2001:db8::/32"],
  ["v6 bracketed", { ip: "[2001:db8::1]", port: 443 }, "allow", "allow 2001:db8::/32"],
  ["v6 invalid", { ip: "2001:db8:::1", port: 443 }, "deny", null],
  // names and IPs together
  ["name allowed, ip in deny range: deny wins", { host: "example.com", ip: "10.0.0.5", port: 443 }, "deny", "deny 10.0.0.0/8"],
  ["name allowed, public ip", { host: "example.com", ip: "93.184.216.34", port: 443 }, "allow", "allow example.com"],
  ["name denied, ip allowed: deny wins", { host: "bad.one.test", ip: "203.0.113.5", port: 443 }, "deny", "deny bad.one.test"],
  ["unknown name, ip allowed", { host: "unknown.test", ip: "203.0.113.5", port: 443 }, "allow", "allow 203.0.113.0/24"],
  ["unknown name, unknown ip", { host: "unknown.test", ip: "93.184.216.34", port: 443 }, "deny", null],
  ["IP literal in host position", { host: "203.0.113.5", port: 443 }, "allow", "allow 203.0.113.0/24"],
  ["IP literal in host position denied", { host: "127.0.0.1", port: 443 }, "deny", "deny 127.0.0.0/8"],
  ["v6 literal in host position", { host: "[2001:db8::1]", port: 443 }, "allow", "allow 2001:db8::/32"],
  ["direct ip without name: directIp deny", { ip: "93.184.216.34", port: 443 }, "deny", null],
  ["neither name nor ip", { port: 443 }, "deny", null],
  ["empty host", { host: "", port: 443 }, "deny", null],
  ["host with a port is refused", { host: "example.com:443", port: 443 }, "deny", null],
  ["IPv4 literal with a port is refused", { host: "203.0.113.5:443", port: 443 }, "deny", null],
  // HTTP method and path
  ["http GET allowed path", { host: "api.http.test", port: 443, method: "GET", path: "/v1/models" }, "allow", "allow api.http.test GET,HEAD /v1/**,/health"],
  ["http lower-case method", { host: "api.http.test", port: 443, method: "get", path: "/v1/models" }, "allow", "allow api.http.test GET,HEAD /v1/**,/health"],
  ["http HEAD allowed", { host: "api.http.test", port: 443, method: "HEAD", path: "/health" }, "allow", "allow api.http.test GET,HEAD /v1/**,/health"],
  ["http deep path", { host: "api.http.test", port: 443, method: "GET", path: "/v1/a/b/c" }, "allow", "allow api.http.test GET,HEAD /v1/**,/health"],
  ["http query ignored", { host: "api.http.test", port: 443, method: "GET", path: "/health?x=1" }, "allow", "allow api.http.test GET,HEAD /v1/**,/health"],
  ["http POST not allowed", { host: "api.http.test", port: 443, method: "POST", path: "/v1/models" }, "deny", null],
  ["http path not allowed", { host: "api.http.test", port: 443, method: "GET", path: "/v2/models" }, "deny", null],
  ["http health sub not allowed", { host: "api.http.test", port: 443, method: "GET", path: "/health/x" }, "deny", null],
  ["http DELETE denied", { host: "api.http.test", port: 443, method: "DELETE", path: "/v1/x" }, "deny", "deny api.http.test DELETE"],
  ["http admin path denied", { host: "api.http.test", port: 443, method: "GET", path: "/v1/admin/users" }, "deny", "deny api.http.test /v1/admin/**"],
  ["http dot-dot cannot escape to admin", { host: "api.http.test", port: 443, method: "GET", path: "/v1/x/../admin/users" }, "deny", "deny api.http.test /v1/admin/**"],
  ["http encoded dot-dot", { host: "api.http.test", port: 443, method: "GET", path: "/v1/x/%2e%2e/admin/k" }, "deny", "deny api.http.test /v1/admin/**"],
  ["http connection level: inspect", { host: "api.http.test", port: 443 }, "allow", "allow api.http.test GET,HEAD /v1/**,/health", true],
  ["http POST-only host connection level", { host: "upload.test", port: 443 }, "allow", "allow upload.test POST", true],
  ["http POST-only host POST", { host: "upload.test", port: 443, method: "POST", path: "/x" }, "allow", "allow upload.test POST"],
  ["http POST-only host GET", { host: "upload.test", port: 443, method: "GET", path: "/x" }, "deny", null],
  ["http method on plain allow host", { host: "example.com", port: 443, method: "PUT", path: "/anything" }, "allow", "allow example.com"],
  ["http method on unknown host", { host: "nowhere.test", port: 443, method: "GET", path: "/" }, "deny", null],
];

// Every host case again in upper case and with a trailing dot: normalisation must not change the result.
const variants: Row[] = base
  .filter(([, r]) => r.host && /^[a-z0-9.-]+$/.test(r.host) && !r.host.endsWith(".") && !r.host.includes("..") && !r.host.startsWith("."))
  .flatMap(([label, r, v, rule, inspect]): Row[] => [
    [`${label} (UPPER)`, { ...r, host: r.host!.toUpperCase() }, v, rule, inspect],
    [`${label} (trailing dot)`, { ...r, host: `${r.host}.` }, v, rule, inspect],
  ]);

const rows = [...base, ...variants];

describe("network decisions", () => {
  const { plan, linear } = networkFromYaml(POLICY);

  test("the table has at least 150 cases", () => {
    expect(rows.length).toBeGreaterThanOrEqual(150);
  });

  test.each(rows)("%s", (_label, req, verdict, rule, inspect) => {
    const d = plan.decide(req);
    expect(d.verdict, d.reason).toBe(verdict);
    if (rule !== undefined) expect(d.rule?.text ?? null, d.reason).toBe(rule);
    expect(d.inspect).toBe(inspect ?? false);
    const l = linear.decide(req);
    expect({ verdict: l.verdict, rule: l.rule?.id, inspect: l.inspect, reason: l.reason }).toEqual({ verdict: d.verdict, rule: d.rule?.id, inspect: d.inspect, reason: d.reason });
  });
});

describe("DNS: which names the egress stub may resolve", () => {
  const { plan } = networkFromYaml(POLICY);
  test.each([
    ["example.com", true],
    ["a.one.test", true],
    ["bad.one.test", false],
    ["x.deep.mixed.test", false],
    ["api.http.test", true],
    ["ports.test", true],
    ["unknown.test", false],
    ["Bücher.de.", true],
    ["203.0.113.5", false],
    ["127.1", false],
  ] as const)("%s → %s", (name, resolve) => {
    expect(plan.mayResolve(name).resolve, plan.mayResolve(name).reason).toBe(resolve);
  });

  test("default allow resolves unknown names but not names denied on every port", () => {
    const { plan: open } = networkFromYaml("network: {preset: open, deny: [evil.test, 'smtp.test:25']}");
    expect(open.mayResolve("anything.test").resolve).toBe(true);
    expect(open.mayResolve("evil.test").resolve).toBe(false);
    expect(open.mayResolve("smtp.test").resolve).toBe(true);
  });
});

describe("invalid requests say why", () => {
  const { plan } = networkFromYaml("network: {preset: open}");
  test.each([
    [{ host: "example.com:443", port: 443 }, /includes a port/],
    [{ host: "127.1", port: 80 }, /non-standard form/],
    [{ host: "a..b", port: 80 }, /not a valid host name/],
    [{ ip: "1.2.3", port: 80 }, /not an IP address/],
    [{ host: "a.test", port: 0 }, /not in 1..65535/],
    [{ port: 80 }, /neither a host nor an IP/],
  ])("%j", (req, why) => {
    const d = plan.decide(req);
    expect(d.verdict).toBe("deny");
    expect(d.reason).toMatch(why);
  });
});

describe("defaults and presets", () => {
  test("open preset allows unknown names and direct IPs, denies metadata", () => {
    const { plan } = networkFromYaml("network: {preset: open}");
    expect(plan.decide({ host: "anything.example", port: 443 }).verdict).toBe("allow");
    expect(plan.decide({ ip: "93.184.216.34", port: 443 }).verdict).toBe("allow");
    expect(plan.decide({ ip: "169.254.169.254", port: 80 }).verdict).toBe("deny");
  });

  test("default allow still denies direct IPs unless directIp: allow", () => {
    const { plan } = networkFromYaml("network: {preset: locked, default: allow}");
    expect(plan.decide({ host: "x.test", port: 443 }).verdict).toBe("allow");
    const d = plan.decide({ ip: "93.184.216.34", port: 443 });
    expect(d.verdict).toBe("deny");
    expect(d.reason).toMatch(/directIp/);
    const open = networkFromYaml("network: {preset: locked, default: allow, directIp: allow}").plan;
    expect(open.decide({ ip: "93.184.216.34", port: 443 }).verdict).toBe("allow");
  });

  test("balanced preset allows registries, code hosts and AI APIs on 443 only", () => {
    const { plan } = networkFromYaml("{}");
    for (const host of ["registry.npmjs.org", "github.com", "objects.githubusercontent.com", "api.anthropic.com", "api.openai.com", "pypi.org"])
      expect(plan.decide({ host, port: 443 }).verdict, host).toBe("allow");
    expect(plan.decide({ host: "github.com", port: 22 }).verdict).toBe("deny");
    expect(plan.decide({ host: "evil.example", port: 443 }).verdict).toBe("deny");
    expect(plan.decide({ host: "github.com", ip: "127.0.0.1", port: 443 }).verdict).toBe("deny");
  });

  test("conditional deny on an allowed host asks for inspection", () => {
    const { plan } = networkFromYaml(`
network:
  preset: locked
  allow: [api.test]
  deny: [{host: api.test, methods: [DELETE]}]
`);
    const d = plan.decide({ host: "api.test", port: 443 });
    expect(d).toMatchObject({ verdict: "allow", inspect: true });
    expect(plan.decide({ host: "api.test", port: 443, method: "DELETE", path: "/" }).verdict).toBe("deny");
  });

  test("decideConnection: any claimed name that is denied denies; no name means direct IP", () => {
    const { plan } = networkFromYaml(`
network:
  preset: locked
  allow: [good.test, "203.0.113.0/24"]
  deny: [evil.test]
`);
    expect(plan.decideConnection({ ip: "93.184.216.34", port: 443, names: ["good.test"] }).verdict).toBe("allow");
    expect(plan.decideConnection({ ip: "93.184.216.34", port: 443, names: ["good.test", "EVIL.test."] }).verdict).toBe("deny");
    expect(plan.decideConnection({ ip: "93.184.216.34", port: 443, names: [] }).verdict).toBe("deny");
    expect(plan.decideConnection({ ip: "203.0.113.9", port: 443, names: [] }).verdict).toBe("allow");
    expect(plan.decideConnection({ ip: "203.0.113.9", port: 443, names: ["evil.test"] }).verdict).toBe("deny");
  });
});
