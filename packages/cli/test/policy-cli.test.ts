/**
 * `moat policy check|test|show` through the real bundled executable: a file with three errors
 * reports all three with positions and exits 2; decisions exit 0 (allow) / 1 (deny).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const bundle = new URL("../dist/moat.js", import.meta.url).pathname;
const run = promisify(execFile);
let root: string;
let project: string;

async function moat(args: string[]) {
  const env = { ...process.env, XDG_CONFIG_HOME: join(root, "xdg"), HOME: join(root, "home") };
  try {
    const { stdout, stderr } = await run(process.execPath, [bundle, ...args], { cwd: project, env });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

beforeAll(() => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build the CLI first (pnpm --filter moat build)`);
  // The home directory sits beside the project: a project containing home would be a broad mount.
  root = mkdtempSync(join(tmpdir(), "moat-cli-policy-"));
  project = join(root, "proj");
  mkdirSync(join(project, ".moat"), { recursive: true });
  mkdirSync(join(root, "home"));
  writeFileSync(join(project, ".moat", "policy.yaml"), 'network:\n  deny: ["**.evil.test"]\n  allow: ["api.example.test:443"]\n');
  writeFileSync(join(project, "bad.yaml"), 'network:\n  presett: open\n  allow: ["*.*.com"]\nsecrets:\n  TOKEN:\n    env: TOKEN\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("moat policy", () => {
  test("check reports all three errors with positions and exits 2", async () => {
    const r = await moat(["policy", "check", "bad.yaml"]);
    expect(r.code).toBe(2);
    const file = join(project, "bad.yaml");
    expect(r.stdout).toContain(`${file}:2:3: error[unknown-key]: unknown key "presett" in network`);
    expect(r.stdout).toContain(`${file}:3:11: error[invalid-host-pattern]`);
    expect(r.stdout).toContain(`${file}:5:3: error[secret-no-host]`);
    expect(r.stdout).toContain("3 errors, 0 warnings");
  });

  test("check --json on a valid file exits 0", async () => {
    const r = await moat(["policy", "check", ".moat/policy.yaml", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, diagnostics: [] });
    // Without a file it checks the project's .moat/policy.yaml.
    expect(await moat(["policy", "check", "--json"])).toMatchObject({ code: 0, stdout: r.stdout });
    const missing = await moat(["policy", "check", "nope.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain(`no such file: ${join(project, "nope.yaml")}`);
  });

  test("test explains allow (exit 0) and deny (exit 1) naming the rule's file and line", async () => {
    const allowed = await moat(["policy", "test", "--host", "API.Example.Test."]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain("ALLOW");
    const denied = await moat(["policy", "test", "--host", "a.b.evil.test", "--port", "80"]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain(`deny **.evil.test (project ${join(project, ".moat", "policy.yaml")}:2:10)`);
    const flagged = await moat(["policy", "test", "--host", "api.example.test", "--deny-host", "api.example.test"]);
    expect(flagged.code).toBe(1);
    expect(flagged.stdout).toContain("flags --deny-host");
  });

  test("show lists the layers and origins", async () => {
    const r = await moat(["policy", "show"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`allow api.example.test:443  (project ${join(project, ".moat", "policy.yaml")}:3:11)`);
    expect(r.stdout).toContain("(builtin preset balanced)");
  });
});
