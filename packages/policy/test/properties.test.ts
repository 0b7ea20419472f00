/**
 * Property tests (fast-check): for random policies and random requests the indexed matcher gives
 * exactly the linear reference matcher's answer, and deny always wins — adding any deny rule that
 * matches a request makes the verdict deny, wherever the rule is placed and whatever else allows.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  finishRule,
  IndexedMatcher,
  LinearMatcher,
  maskWordsForTest,
  normalizeHost,
  parseIp,
  type NetworkDefaults,
  type NetworkRequest,
  type NetworkRuleSpec,
  type PortRange,
} from "./property-support.js";

const origin = { kind: "file" as const, file: "prop.yaml" };
const LABELS = ["a", "b", "c", "d-e", "xn--bcher-kva", "9"];
const TLDS = ["test", "com"];
const PORTS = [22, 80, 443, 8080];
const METHODS = ["GET", "POST", "DELETE"];
const RULE_PATHS = ["/v1/**", "/health", "/a/*", "/**"];
const REQ_PATHS = ["/v1/x", "/v1/a/b", "/health", "/a/b", "/z"];
const V4 = ["10.0.0.1", "10.0.1.255", "10.1.0.0", "203.0.113.5", "203.0.113.200", "192.0.2.1", "::ffff:10.0.0.1", "::ffff:203.0.113.5"];
const V6 = ["2001:db8::1", "2001:db8:1::5", "2001:db8:dead::1", "fd00::1", "::1"];

const hostArb = fc
  .tuple(fc.array(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 3 }), fc.constantFrom(...TLDS))
  .map(([labels, tld]) => [...labels, tld].join("."));
const ipArb = fc.constantFrom(...V4, ...V6);
const portsArb = fc.option(
  fc.array(
    fc.constantFrom(...PORTS).chain((p) => fc.constantFrom({ from: p, to: p }, { from: p - 1, to: p + 1 }, { from: 1, to: p })),
    { minLength: 1, maxLength: 2 },
  ),
  { nil: null },
);

function cidrOf(ipText: string, prefixPick: number): NetworkRuleSpec["cidr"] {
  const ip = parseIp(ipText)!;
  if (ip.v === 4) {
    const prefix = [0, 8, 16, 24, 25, 32][prefixPick % 6]!;
    return { v: 4, prefix, words: maskWordsForTest([ip.n], prefix) };
  }
  const prefix = [0, 16, 32, 48, 64, 128][prefixPick % 6]!;
  return { v: 6, prefix, words: maskWordsForTest(ip.w, prefix) };
}

const ruleArb: fc.Arbitrary<NetworkRuleSpec> = fc
  .record({
    action: fc.constantFrom("allow" as const, "deny" as const),
    target: fc.oneof(
      fc.record({ kind: fc.constantFrom("exact" as const, "one" as const, "any" as const), name: hostArb }).map((host) => ({ host })),
      fc.tuple(ipArb, fc.nat()).map(([ip, p]) => ({ cidr: cidrOf(ip, p) })),
    ),
    ports: portsArb,
    methods: fc.option(fc.subarray(METHODS, { minLength: 1 }), { nil: null, freq: 4 }),
    paths: fc.option(fc.subarray(RULE_PATHS, { minLength: 1 }), { nil: null, freq: 4 }),
  })
  .map(({ action, target, ports, methods, paths }) => ({ action, ...target, ports, methods, paths, origin, path: "prop" }));

const requestArb: fc.Arbitrary<NetworkRequest> = fc
  .record({
    host: fc.option(
      fc.tuple(hostArb, fc.constantFrom("plain", "upper", "dot")).map(([h, v]) => (v === "upper" ? h.toUpperCase() : v === "dot" ? `${h}.` : h)),
      { nil: undefined },
    ),
    ip: fc.option(ipArb, { nil: undefined }),
    port: fc.constantFrom(...PORTS),
    http: fc.option(fc.tuple(fc.constantFrom(...METHODS), fc.constantFrom(...REQ_PATHS)), { nil: undefined }),
  })
  .filter((r) => r.host !== undefined || r.ip !== undefined)
  .map(({ host, ip, port, http }) => ({
    ...(host !== undefined ? { host } : {}),
    ...(ip !== undefined ? { ip } : {}),
    port,
    ...(http ? { method: http[0], path: http[1] } : {}),
  }));

const defaultsArb: fc.Arbitrary<NetworkDefaults> = fc.record({
  default: fc.constantFrom("allow" as const, "deny" as const),
  directIp: fc.constantFrom("allow" as const, "deny" as const),
  defaultLabel: fc.constant("prop"),
});

const policyArb = fc.record({ specs: fc.array(ruleArb, { maxLength: 40 }), defaults: defaultsArb });

/** A deny rule built to match `req`: on its name (exact, `*.`, `**.`) or its address (a CIDR containing it). */
function matchingDenyArb(req: NetworkRequest): fc.Arbitrary<NetworkRuleSpec> {
  const host = req.host !== undefined ? normalizeHost(req.host) : null;
  const targets: fc.Arbitrary<Pick<NetworkRuleSpec, "host" | "cidr">>[] = [];
  if (host) {
    const labels = host.split(".");
    targets.push(fc.constant({ host: { kind: "exact" as const, name: host } }));
    if (labels.length >= 2) targets.push(fc.constant({ host: { kind: "one" as const, name: labels.slice(1).join(".") } }));
    if (labels.length >= 2)
      targets.push(fc.integer({ min: 1, max: labels.length - 1 }).map((i) => ({ host: { kind: "any" as const, name: labels.slice(i).join(".") } })));
  }
  if (req.ip) targets.push(fc.nat().map((p) => ({ cidr: cidrOf(req.ip!, p) })));
  return fc.record({
    target: fc.oneof(...targets),
    ports: fc.constantFrom<PortRange[] | null>(null, [{ from: req.port, to: req.port }], [{ from: 1, to: 65535 }]),
    methods: req.method ? fc.constantFrom<string[] | null>(null, [req.method]) : fc.constant(null),
    paths: req.path ? fc.constantFrom<string[] | null>(null, ["/**"], [req.path]) : fc.constant(null),
  }).map(({ target, ports, methods, paths }) => ({ action: "deny" as const, ...target, ports, methods, paths, origin, path: "added-deny" }));
}

function build(specs: readonly NetworkRuleSpec[], defaults: NetworkDefaults) {
  const rules = specs.map((s, i) => finishRule(s, i));
  return { indexed: new IndexedMatcher(rules, defaults), linear: new LinearMatcher(rules, defaults) };
}

describe("matcher properties", () => {
  test("the indexed matcher agrees with the linear reference matcher", () => {
    fc.assert(
      fc.property(policyArb, fc.array(requestArb, { minLength: 1, maxLength: 20 }), ({ specs, defaults }, requests) => {
        const { indexed, linear } = build(specs, defaults);
        const rules = specs.map((s, i) => finishRule(s, i));
        // The host cache must not change any answer: off, tiny (cleared all the time) and default.
        const uncached = new IndexedMatcher(rules, defaults, { hostCacheSize: 0 });
        const tiny = new IndexedMatcher(rules, defaults, { hostCacheSize: 2 });
        for (const req of [...requests, ...requests]) {
          const b = linear.decide(req);
          for (const m of [indexed, uncached, tiny]) {
            const a = m.decide(req);
            expect({ v: a.verdict, r: a.rule?.id, i: a.inspect, why: a.reason }).toEqual({ v: b.verdict, r: b.rule?.id, i: b.inspect, why: b.reason });
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  test("mayResolve: indexed equals linear, and a name resolved under default deny has an allow rule", () => {
    fc.assert(
      fc.property(policyArb, fc.array(hostArb, { minLength: 1, maxLength: 10 }), ({ specs, defaults }, names) => {
        const { indexed, linear } = build(specs, defaults);
        for (const name of names) {
          const a = indexed.mayResolve(name);
          expect(a).toEqual(linear.mayResolve(name));
          if (a.resolve && defaults.default === "deny") expect(a.reason).toMatch(/allows it on some port/);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("deny always wins: adding a matching deny rule anywhere makes the verdict deny", () => {
    fc.assert(
      fc.property(
        policyArb,
        requestArb.chain((req) => fc.tuple(fc.constant(req), matchingDenyArb(req))),
        fc.nat(),
        ({ specs, defaults }, [req, deny], at) => {
          const before = build(specs, defaults).indexed.decide(req);
          const withDeny = [...specs];
          withDeny.splice(at % (specs.length + 1), 0, deny);
          const { indexed, linear } = build(withDeny, defaults);
          for (const d of [indexed.decide(req), linear.decide(req)]) {
            expect(d.verdict, `before: ${before.reason}; after: ${d.reason}`).toBe("deny");
            expect(d.rule?.action).toBe("deny");
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("a request decided allow stays allow when an unrelated allow rule is added", () => {
    fc.assert(
      fc.property(policyArb, requestArb, ruleArb, ({ specs, defaults }, req, extra) => {
        const before = build(specs, defaults).indexed.decide(req);
        fc.pre(before.verdict === "allow" && !before.inspect);
        const after = build([...specs, { ...extra, action: "allow" }], defaults).indexed.decide(req);
        expect(after.verdict).toBe("allow");
      }),
      { numRuns: 300 },
    );
  });
});
