/**
 * Validation reports every problem with its file, line, column and a hint: unknown keys with "did
 * you mean", wrong types, invalid CIDRs, misplaced wildcards, secrets bound to no host or written
 * inline, YAML syntax errors, duplicate keys — in YAML and in JSON files.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parsePolicyText, policyCheck, sortDiagnostics, type Diagnostic } from "@moat/policy";

function diagnose(text: string): Diagnostic[] {
  return parsePolicyText(text, "p.yaml").bag.items;
}

function only(text: string): Diagnostic {
  const items = diagnose(text);
  expect(items, JSON.stringify(items, null, 2)).toHaveLength(1);
  return items[0]!;
}

describe("positions and hints", () => {
  test.each([
    ["unknown top-level key", "netwrk:\n  preset: open\n", "unknown-key", 1, 1, /did you mean "network"/],
    ["unknown nested key", "network:\n  prest: open\n", "unknown-key", 2, 3, /did you mean "preset"/],
    ["unknown key far from all", "files:\n  zzzzzzzz: 1\n", "unknown-key", 2, 3, /known keys: mounts/],
    ["wrong type for section", "network: [a]\n", "wrong-type", 1, 10, undefined],
    ["wrong enum", "network:\n  preset: balancd\n", "invalid-value", 2, 11, /did you mean "balanced"/],
    ["wrong type boolean", "files:\n  allowBroad: yes please\n", "wrong-type", 2, 15, undefined],
    ["invalid CIDR prefix", "network:\n  deny:\n    - 10.0.0.0/33\n", "invalid-cidr", 3, 7, /between \/0 and \/32/],
    ["CIDR host bits", "network:\n  deny:\n    - 10.0.0.1/8\n", "invalid-cidr", 3, 7, /did you mean 10.0.0.0\/8/],
    ["CIDR v6 host bits", "network:\n  deny:\n    - \"2001:db8::1/32\"\n", "invalid-cidr", 3, 7, /2001:db8::\/32/],
    ["CIDR garbage", "network:\n  deny:\n    - 300.1.1.1/8\n", "invalid-cidr", 3, 7, /four decimal/],
    ["wildcard in the middle", "network:\n  allow:\n    - \"*.*.com\"\n", "invalid-host-pattern", 3, 7, /first label/],
    ["partial wildcard", "network:\n  allow:\n    - \"api*.example.com\"\n", "invalid-host-pattern", 3, 7, /first label/],
    ["match-everything", "network:\n  allow:\n    - \"**\"\n", "invalid-host-pattern", 3, 7, /network.default: allow/],
    ["numeric label", "network:\n  allow:\n    - \"*.10\"\n", "invalid-host-pattern", 3, 7, /IP address/],
    ["bad port", "network:\n  allow:\n    - \"example.com:99999\"\n", "invalid-port", 3, 7, /1..65535/],
    ["bad port in list", "network:\n  allow:\n    - host: example.com\n      ports: [443, abc]\n", "invalid-port", 4, 20, /range/],
    ["ports twice", "network:\n  allow:\n    - host: example.com:443\n      ports: [80]\n", "duplicate-ports", 3, 13, /keep one/],
    ["bad method", "network:\n  allow:\n    - host: example.com\n      methods: [G3T]\n", "invalid-method", 4, 17, /GET/],
    ["bad path", "network:\n  allow:\n    - host: example.com\n      paths: [v1/**]\n", "invalid-path", 4, 15, /\/v1/],
    ["rule object without host", "network:\n  allow:\n    - ports: [443]\n", "missing-key", 3, 7, undefined],
    ["secret without hosts", "secrets:\n  TOKEN:\n    env: TOKEN\n", "secret-no-host", 2, 3, /hosts:/],
    ["secret with empty hosts", "secrets:\n  TOKEN:\n    env: TOKEN\n    hosts: []\n", "secret-no-host", 4, 12, /list the hosts/],
    ["secret with bad header", "secrets:\n  T:\n    env: T\n    hosts: [a.test]\n    header: \"Bad Header\"\n", "invalid-header", 5, 13, /Authorization/],
    ["secret format without {value}", "secrets:\n  T:\n    env: T\n    hosts: [a.test]\n    header: X\n    format: Bearer\n", "invalid-format", 6, 13, /\{value\}/],
    ["secret name invalid", "secrets:\n  my-token:\n    env: T\n    hosts: [a.test]\n", "invalid-secret-name", 2, 3, /letters/],
    ["guest path relative", "files:\n  mounts:\n    - {host: ., guest: workspace}\n", "invalid-guest-path", 3, 24, /absolute path such as \/mnt\/data, or omit guest/],
    ["guest path /proc", "files:\n  mounts:\n    - {host: ., guest: /proc/x}\n", "invalid-guest-path", 3, 24, /under \/mnt/],
    ["guest path not a string", "files:\n  mounts:\n    - {host: ., guest: [a]}\n", "wrong-type", 3, 24, undefined],
    ["mount without host", "files:\n  mounts:\n    - guest: /mnt/x\n", "missing-key", 3, 7, /same path in the guest/],
    ["glob escaping the mount", "files:\n  deny: [\"../x\"]\n", "invalid-glob", 2, 10, /leading/],
    ["cpus out of range", "resources:\n  cpus: 0\n", "out-of-range", 2, 9, /1 to 64/],
    ["memory not a size", "resources:\n  memory: lots\n", "invalid-size", 2, 11, /2GiB/],
    ["memory too small", "resources:\n  memory: 1MiB\n", "out-of-range", 2, 11, /128MiB/],
    ["version", "version: 2\n", "out-of-range", 1, 10, undefined],
    ["yaml syntax", "network:\n  preset: [open\n", "yaml-syntax", undefined, undefined, /indentation/],
    ["duplicate key", "network:\n  preset: open\n  preset: locked\n", "duplicate-key", 3, 3, /once/],
  ] as const)("%s", (_label, text, code, line, column, hint) => {
    const d = only(text);
    expect(d.code).toBe(code);
    expect(d.severity).toBe("error");
    expect(d.file).toBe("p.yaml");
    if (line !== undefined) expect([d.line, d.column]).toEqual([line, column]);
    else expect(d.line).toBeGreaterThan(0);
    if (hint) expect(d.hint ?? "").toMatch(hint);
  });

  test("a secret value written in the policy is refused and never echoed", () => {
    const items = diagnose("secrets:\n  TOKEN:\n    value: sk-live-123\n    hosts: [api.test]\n");
    const d = items.find((i) => i.code === "secret-value-in-policy")!;
    expect([d.line, d.column]).toEqual([3, 5]);
    expect(JSON.stringify(items)).not.toContain("sk-live-123");
  });

  test("an env value that is not a variable name is not echoed (it may be the secret)", () => {
    const items = diagnose("secrets:\n  TOKEN:\n    env: sk-live-abc123\n    hosts: [api.test]\n");
    expect(items.map((d) => [d.code, d.line, d.column])).toEqual([["invalid-env-name", 3, 10]]);
    expect(JSON.stringify(items)).not.toContain("sk-live-abc123");
  });

  test("a broad wildcard is a warning, not an error", () => {
    const d = only("network:\n  allow:\n    - \"**.com\"\n");
    expect(d).toMatchObject({ severity: "warning", code: "broad-pattern", line: 3, column: 7 });
  });

  test("all errors are reported, not just the first", () => {
    const items = diagnose(`
netwrk: {}
network:
  preset: strict
  allow: ["*.*.com", "10.0.0.0/40", {host: a.test, methods: [1]}]
secrets:
  K: {env: K}
resources:
  cpus: many
`);
    expect(items.map((d) => [d.code, d.line])).toEqual([
      ["unknown-key", 2],
      ["invalid-value", 4],
      ["invalid-host-pattern", 5],
      ["invalid-cidr", 5],
      ["wrong-type", 5],
      ["secret-no-host", 7],
      ["wrong-type", 9],
    ]);
  });

  test("JSON policy files get the same checks and positions", () => {
    const text = '{\n  "network": {\n    "preset": "balanced",\n    "allow": ["ok.test", "*.*.bad"]\n  },\n  "resorces": {}\n}\n';
    const items = sortDiagnostics(parsePolicyText(text, "p.json").bag.items);
    expect(items.map((d) => [d.code, d.line, d.column])).toEqual([
      ["invalid-host-pattern", 4, 26],
      ["unknown-key", 6, 3],
    ]);
  });

  test("an empty file is an empty policy", () => {
    expect(diagnose("")).toEqual([]);
    expect(diagnose("# only a comment\n")).toEqual([]);
  });
});

describe("policyCheck", () => {
  const dir = mkdtempSync(join(tmpdir(), "moat-policy-check-"));

  test("a file with three errors reports all three with positions and exits 2", () => {
    const file = join(dir, "three.yaml");
    writeFileSync(file, "network:\n  defualt: deny\n  allow:\n    - \"*.*.example.com\"\nsecrets:\n  API_KEY:\n    env: API_KEY\n");
    const r = policyCheck(file, { hostChecks: false });
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain(`${file}:2:3: error[unknown-key]`);
    expect(r.text).toContain(`did you mean "default"?`);
    expect(r.text).toContain(`${file}:4:7: error[invalid-host-pattern]`);
    expect(r.text).toContain(`${file}:6:3: error[secret-no-host]`);
    expect(r.text).toContain("3 errors, 0 warnings");
    expect(r.text).toContain('  4 |     - "*.*.example.com"');
    expect((r.json as { diagnostics: unknown[] }).diagnostics).toHaveLength(3);
  });

  test("a valid file exits 0", () => {
    const file = join(dir, "ok.yaml");
    writeFileSync(file, "network:\n  preset: balanced\n  allow: [api.example.com]\n");
    const r = policyCheck(file, { hostChecks: false });
    expect(r.text).toBe(`${file}: ok`);
    expect(r.exitCode).toBe(0);
  });

  test("contradictory rules are a warning naming both places (deny wins), exit 0", () => {
    const file = join(dir, "contra.yaml");
    writeFileSync(file, "network:\n  allow:\n    - api.example.com:443\n  deny:\n    - api.example.com:443\n");
    const r = policyCheck(file, { hostChecks: false });
    expect(r.exitCode).toBe(0);
    expect(r.text).toMatch(/warning\[contradictory-rule\].*allowed \(file .*contra.yaml:3:7\) and denied \(file .*contra.yaml:5:7\); deny wins/);
  });

  test("a missing file exits 2 naming the path", () => {
    const r = policyCheck(join(dir, "nope.yaml"));
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain("nope.yaml");
  });
});
