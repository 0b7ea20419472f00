/**
 * The secret injection table: the guest sees placeholders; on a request to a bound host the header
 * secret sets its header and the placeholder secret replaces its placeholder; nothing is injected for
 * other hosts, and a placeholder sent to an unbound host is reported.
 */
import { describe, expect, test } from "vitest";
import { builtinLayer, compileSecrets, compileNetwork, DiagnosticBag, mergeLayers, nodePolicyFs, parsePolicyText } from "@moat/policy";

const POLICY = `
secrets:
  OPENAI_API_KEY:
    env: OPENAI_API_KEY
    hosts: [api.openai.com]
    header: Authorization
    format: "Bearer {value}"
  NPM_TOKEN:
    env: NPM_TOKEN
    hosts: ["*.npmjs.org"]
`;

function table(env: Record<string, string>) {
  const bag = new DiagnosticBag();
  const policy = mergeLayers([builtinLayer(), parsePolicyText(POLICY, "s.yaml", "file", bag).layer]);
  const network = compileNetwork(policy, bag);
  const secrets = compileSecrets(policy, network, { env, fs: nodePolicyFs, homeDir: "/nonexistent", baseDir: "/nonexistent" }, bag);
  return { secrets, bag };
}

describe("secret injection", () => {
  const env = { OPENAI_API_KEY: "sk-real", NPM_TOKEN: "npm-real" };

  test("the guest environment holds placeholders only", () => {
    const { secrets } = table(env);
    expect(secrets.guestEnv()).toEqual({ OPENAI_API_KEY: "moat-placeholder-OPENAI_API_KEY", NPM_TOKEN: "moat-placeholder-NPM_TOKEN" });
    expect(JSON.stringify(secrets.guestEnv())).not.toMatch(/real/);
  });

  test("a header secret replaces whatever the guest sent in that header (case-insensitive)", () => {
    const r = table(env).secrets.inject("API.OPENAI.COM", { authorization: "Bearer moat-placeholder-OPENAI_API_KEY", accept: "*/*" });
    expect(r.headers).toEqual({ Authorization: "Bearer sk-real", accept: "*/*" });
    expect(r.injected).toEqual(["OPENAI_API_KEY"]);
  });

  test("a placeholder secret is replaced only where it appears, only for its hosts", () => {
    const { secrets } = table(env);
    const r = secrets.inject("registry.npmjs.org", { authorization: "Bearer moat-placeholder-NPM_TOKEN" });
    expect(r.headers).toEqual({ authorization: "Bearer npm-real" });
    expect(r.injected).toEqual(["NPM_TOKEN"]);
    expect(secrets.inject("registry.npmjs.org", { accept: "x" }).injected).toEqual([]);
  });

  test("nothing is injected for other hosts, and a placeholder sent there is reported", () => {
    const r = table(env).secrets.inject("evil.example", { authorization: "Bearer moat-placeholder-NPM_TOKEN", "x-key": "moat-placeholder-OPENAI_API_KEY" });
    expect(r.headers).toEqual({ authorization: "Bearer moat-placeholder-NPM_TOKEN", "x-key": "moat-placeholder-OPENAI_API_KEY" });
    expect(r.injected).toEqual([]);
    expect(r.unbound.sort()).toEqual(["NPM_TOKEN", "OPENAI_API_KEY"]);
  });

  test("a missing value is a plan error naming the variable, and inject throws naming it", () => {
    const { secrets, bag } = table({ NPM_TOKEN: "npm-real" });
    expect(bag.errors.map((d) => d.message)).toEqual(['secret "OPENAI_API_KEY": environment variable OPENAI_API_KEY is not set']);
    expect(() => secrets.inject("api.openai.com", {})).toThrow(/OPENAI_API_KEY is not set/);
  });
});
