/**
 * Layering: built-in defaults < user file (XDG_CONFIG_HOME or ~/.config/moat) < project file
 * (.moat/policy.yaml, found from a subdirectory too) < CLI flags, with the origin of every entry
 * kept; and the `policy show` / `policy test` commands on top of it.
 */
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { loadEffectivePolicy, policyShow, policyTest, userPolicyDir } from "@moat/policy";

let home: string;
let project: string;
let xdg: string;

beforeEach(() => {
  const root = mkdtempSync(join(tmpdir(), "moat-layers-"));
  home = join(root, "home");
  xdg = join(root, "xdg");
  project = join(root, "work", "proj");
  mkdirSync(join(project, ".moat"), { recursive: true });
  mkdirSync(join(project, "src", "deep"), { recursive: true });
  mkdirSync(join(xdg, "moat"), { recursive: true });
  mkdirSync(join(home, ".config", "moat"), { recursive: true });
});

const env = () => ({ XDG_CONFIG_HOME: xdg, GH_TOKEN: "ghp_test" });

describe("layering", () => {
  test("user file under XDG_CONFIG_HOME, else ~/.config/moat", () => {
    expect(userPolicyDir({ XDG_CONFIG_HOME: "/x" }, "/h")).toBe("/x/moat");
    expect(userPolicyDir({}, "/h")).toBe("/h/.config/moat");
    expect(userPolicyDir({ XDG_CONFIG_HOME: "relative" }, "/h")).toBe("/h/.config/moat");
  });

  test("later layers override scalars, lists concatenate, origins are kept", () => {
    writeFileSync(join(xdg, "moat", "policy.yaml"), "network:\n  preset: open\n  deny: [ads.example]\nresources:\n  cpus: 4\n  memory: 4GiB\n");
    writeFileSync(join(project, ".moat", "policy.yaml"), "network:\n  preset: balanced\n  allow: [api.example.com]\nresources:\n  cpus: 8\n");
    const r = loadEffectivePolicy({ cwd: join(project, "src", "deep"), homeDir: home, env: env(), flags: { denyHost: ["api.example.com"], memory: "1GiB" } });
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.projectRoot).toBe(project);
    expect(r.files.map((f) => f.kind)).toEqual(["user", "project"]);
    expect(r.policy.network.preset).toMatchObject({ value: "balanced", origin: { kind: "project", line: 2, column: 11 } });
    expect(r.policy.resources.cpus).toMatchObject({ value: 8, origin: { kind: "project" } });
    expect(r.policy.resources.memoryMiB).toMatchObject({ value: 1024, origin: { kind: "flags", file: "--memory" } });
    const user = r.policy.network.rules.find((x) => x.host?.name === "ads.example")!;
    expect(user.origin).toMatchObject({ kind: "user", line: 3, column: 10 });
    // The flag's deny beats the project's allow, and the explanation names the flag.
    const d = r.plan.network.decide({ host: "api.example.com", port: 443 });
    expect(d.verdict).toBe("deny");
    expect(d.reason).toContain("flags --deny-host");
    expect(r.plan.network.decide({ host: "ads.example", port: 443 }).reason).toContain(`user ${join(xdg, "moat", "policy.yaml")}:3:10`);
    // A contradiction across layers is reported as a warning at the later rule.
    expect(r.diagnostics.some((x) => x.code === "contradictory-rule" && x.severity === "warning")).toBe(true);
  });

  test("~/.config/moat is used when XDG_CONFIG_HOME is unset", () => {
    writeFileSync(join(home, ".config", "moat", "policy.yaml"), "resources:\n  cpus: 3\n");
    const r = loadEffectivePolicy({ cwd: project, homeDir: home, env: {} });
    expect(r.policy.resources.cpus).toMatchObject({ value: 3, origin: { kind: "user" } });
  });

  test("flags: preset, mounts, bad values name the flag", () => {
    mkdirSync(join(project, "data"));
    const r = loadEffectivePolicy({ cwd: project, homeDir: home, env: env(), flags: { networkPreset: "locked", mount: ["./data:/data:ro"], cpus: "x", allowHost: ["*.*.com"] } });
    expect(r.policy.network.preset.value).toBe("locked");
    expect(r.plan.mounts.map((m) => [m.guestPath, m.mode])).toEqual([[realpathSync(project), "rw"], ["/data", "ro"]]);
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.file)).toEqual(["--allow-host", "--cpus"]);
    expect(r.ok).toBe(false);
  });

  test("a project mount of the project folder replaces the default one, with or without guest", () => {
    for (const mount of ["{host: ., mode: ro}", "{host: ./, guest: /mnt/proj, mode: ro}"]) {
      writeFileSync(join(project, ".moat", "policy.yaml"), `files:\n  mounts:\n    - ${mount}\n`);
      const r = loadEffectivePolicy({ cwd: project, homeDir: home, env: env() });
      expect(r.policy.files.mounts.map((m) => m.origin.kind)).toEqual(["project"]);
      expect(r.plan.mounts).toHaveLength(1);
      expect(r.plan.mounts[0]).toMatchObject({ hostPath: project, guestPath: mount.includes("guest") ? "/mnt/proj" : project, mode: "ro" });
    }
  });

  test("a project mount at the default mount's guest path replaces it", () => {
    mkdirSync(join(project, "sub"));
    writeFileSync(join(project, ".moat", "policy.yaml"), `files:\n  mounts:\n    - {host: ./sub, guest: "${project}", mode: ro}\n`);
    const r = loadEffectivePolicy({ cwd: project, homeDir: home, env: env() });
    expect(r.plan.mounts).toHaveLength(1);
    expect(r.plan.mounts[0]).toMatchObject({ hostPath: join(project, "sub"), guestPath: project, mode: "ro" });
  });

  test("secrets: the guest sees placeholders; values come from the host only on request", () => {
    writeFileSync(join(project, "token.txt"), "file-secret\n");
    writeFileSync(
      join(project, ".moat", "policy.yaml"),
      "secrets:\n  GH_TOKEN:\n    env: GH_TOKEN\n    hosts: [api.github.com]\n    header: Authorization\n    format: \"Bearer {value}\"\n  FILE_TOKEN:\n    file: token.txt\n    hosts: \"*.example.com\"\n",
    );
    const r = loadEffectivePolicy({ cwd: project, homeDir: home, env: env() });
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.plan.secrets.guestEnv()).toEqual({ GH_TOKEN: "moat-placeholder-GH_TOKEN", FILE_TOKEN: "moat-placeholder-FILE_TOKEN" });
    expect(r.plan.secrets.forHost("API.GITHUB.COM.").map((s) => s.name)).toEqual(["GH_TOKEN"]);
    expect(r.plan.secrets.forHost("evil.com")).toEqual([]);
    const gh = r.plan.secrets.forHost("api.github.com")[0]!;
    expect(r.plan.secrets.value(gh)).toBe("ghp_test");
    expect(r.plan.secrets.value(r.plan.secrets.forHost("a.example.com")[0]!)).toBe("file-secret");
    expect(JSON.stringify(r.policy)).not.toContain("ghp_test");
    // api.github.com is allowed by the balanced preset; wildcard bindings are not probed.
    expect(r.diagnostics.filter((d) => d.code === "secret-host-denied")).toEqual([]);
  });

  test("a secret whose env var is missing refuses the plan; a denied secret host warns", () => {
    writeFileSync(join(project, ".moat", "policy.yaml"), "secrets:\n  NOPE:\n    env: NOPE_NOT_SET\n    hosts: [api.internal.test]\n");
    const r = loadEffectivePolicy({ cwd: project, homeDir: home, env: env() });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.map((d) => `${d.severity}:${d.code}`)).toEqual(["error:secret-unavailable", "warning:secret-host-denied"]);
    expect(r.diagnostics[0]!.message).toContain("NOPE_NOT_SET");
  });
});

describe("commands", () => {
  test("policy show lists every entry with its origin", () => {
    writeFileSync(join(project, ".moat", "policy.yaml"), "network:\n  allow:\n    - host: api.example.com\n      methods: [GET]\n");
    const r = policyShow({ cwd: project, homeDir: home, env: env() });
    expect(r.exitCode).toBe(0);
    expect(r.text).toContain(`allow api.example.com GET  (project ${join(project, ".moat", "policy.yaml")}:3:13)`);
    expect(r.text).toContain("deny 10.0.0.0/8  (builtin preset balanced)");
    // The default mount is shown where the guest sees it: the project's own path.
    expect(r.text).toContain(`\n    ${realpathSync(project)} <- . rw  (builtin defaults)`);
    expect(r.text).not.toContain("/workspace");
    const mounts = (r.json as { policy: { files: { mounts: unknown[] } } }).policy.files.mounts;
    expect(mounts[0]).toMatchObject({ host: ".", guest: null, hostPath: realpathSync(project), guestPath: realpathSync(project), mode: "rw" });
    expect(r.text).toContain("cpus: 2  (builtin defaults)");
    expect((r.json as { ok: boolean }).ok).toBe(true);
  });

  test("policy show exits 2 when the effective policy has errors", () => {
    writeFileSync(join(project, ".moat", "policy.yaml"), "network:\n  preset: nope\n");
    const r = policyShow({ cwd: project, homeDir: home, env: env() });
    expect(r.exitCode).toBe(2);
    expect(r.text).toContain(":2:11: error[invalid-value]");
    // The errors come first; what parsed is labelled as not in effect, never shown as the policy.
    expect(r.text.indexOf("error[invalid-value]")).toBeLessThan(r.text.indexOf("# NOT IN EFFECT"));
    expect(r.text.indexOf("# NOT IN EFFECT")).toBeLessThan(r.text.indexOf("# layers:"));
  });

  test("policy test explains allow (exit 0) and deny (exit 1) with the rule's origin", () => {
    writeFileSync(join(project, ".moat", "policy.yaml"), "network:\n  deny: [\"**.tracker.test\"]\n  allow: [\"*.tracker.test\"]\n");
    const denied = policyTest({ host: "x.tracker.test" }, { cwd: project, homeDir: home, env: env() });
    expect(denied.exitCode).toBe(1);
    expect(denied.text).toContain("DENY x.tracker.test:443");
    expect(denied.text).toContain(`deny **.tracker.test (project ${join(project, ".moat", "policy.yaml")}:2:10)`);
    expect(denied.text).toContain("dns: not resolved: denied on every port by deny **.tracker.test");
    const allowed = policyTest({ host: "registry.npmjs.org", port: "443", method: "get", path: "/" }, { cwd: project, homeDir: home, env: env() });
    expect(allowed.exitCode).toBe(0);
    expect(allowed.text).toContain("ALLOW registry.npmjs.org:443 GET /");
    expect(allowed.json).toMatchObject({ verdict: "allow", rule: { text: "allow registry.npmjs.org:443" } });
    const direct = policyTest({ ip: "::ffff:127.0.0.1", port: 80 }, { cwd: project, homeDir: home, env: env() });
    expect(direct.text).toContain("DENY 127.0.0.1:80");
  });

  test("policy test rejects bad input with exit 2", () => {
    const o = { cwd: project, homeDir: home, env: env() };
    expect(policyTest({}, o).exitCode).toBe(2);
    expect(policyTest({ host: "a.test", port: "http" }, o).exitCode).toBe(2);
    expect(policyTest({ ip: "1.2.3" }, o).exitCode).toBe(2);
  });
});
