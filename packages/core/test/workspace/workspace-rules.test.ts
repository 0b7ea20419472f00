/**
 * workspaceRules over plans compiled by @moat/policy from real policy files in temp directories:
 * the built-in defaults, project globs, a workspace below the mount root, a ro mount, the longest
 * covering mount, and the refusals (no covering mount, a hidden workspace).
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { SandboxErrorCode } from "../../src/errors/sandbox-error.js";
import { workspaceRules } from "../../src/workspace/workspace-rules.js";
import { compiledMounts, tempBase } from "./policy-fixture.js";

const temp = tempBase("moat-ws-rules-");
let base: string;
let project: string;

beforeEach(async () => {
  base = temp.current();
  project = join(base, "project");
  await mkdir(join(project, "pkg"), { recursive: true });
});

async function projectPolicy(yaml: string): Promise<void> {
  await mkdir(join(project, ".moat"), { recursive: true });
  await writeFile(join(project, ".moat", "policy.yaml"), yaml);
}

const mountsFor = (workspace: string) => compiledMounts(base, workspace);

describe("workspaceRules", () => {
  test("built-in defaults: the project at its own path, .env files hidden anywhere, git hooks/config (nested repositories and submodules too) and .moat read-only", async () => {
    const rules = await workspaceRules(mountsFor(project), project);
    expect(rules.dir).toBe(project);
    expect(rules.mount.hostPath).toBe(project);
    expect(rules.mount.guestPath).toBe(project);
    for (const p of [".env", "src/.env", ".env.local", "a/b/.env.production.local"]) expect(rules.isHidden(p), p).toBe(true);
    for (const p of ["", "src/app.ts", ".envrc", ".git/hooks/post-checkout", ".moat/policy.yaml"]) expect(rules.isHidden(p), p).toBe(false);
    const nested = ["sub/.git/hooks/pre-commit", "sub/.git/config", "a/b/.git/config", ".git/modules/lib/hooks/post-merge", ".git/modules/lib/config"];
    for (const p of [".git/hooks", ".git/hooks/post-checkout", ".git/config", ".moat", ".moat/policy.yaml", ...nested]) expect(rules.isReadonly(p), p).toBe(true);
    for (const p of ["", "ok.txt", ".git/HEAD", "src/.git/hooks.txt"]) expect(rules.isReadonly(p), p).toBe(false);
  });

  test("project globs: a denied directory hides itself and its subtree; readonly globs add up", async () => {
    await projectPolicy('version: 1\nfiles:\n  deny: ["sub/**"]\n  readonly: ["docs/*.md"]\n');
    const rules = await workspaceRules(mountsFor(project), project);
    for (const p of ["sub", "sub/x", "sub/deep/y.txt", ".env"]) expect(rules.isHidden(p), p).toBe(true);
    for (const p of ["subway", "other/sub"]) expect(rules.isHidden(p), p).toBe(false);
    expect(rules.isReadonly("docs/a.md")).toBe(true);
    expect(rules.isReadonly("docs/a.txt")).toBe(false);
    expect(rules.isReadonly(".moat/policy.yaml")).toBe(true);
  });

  test("a workspace below the mount root is matched with paths relative to the root", async () => {
    await projectPolicy('version: 1\nfiles:\n  deny: ["pkg/secret/**"]\n  readonly: ["pkg/locked.txt", "locked.txt"]\n');
    const rules = await workspaceRules(mountsFor(join(project, "pkg")), join(project, "pkg"));
    expect(rules.mount.hostPath).toBe(project);
    expect(rules.isHidden("secret")).toBe(true);
    expect(rules.isHidden("secret/key")).toBe(true);
    expect(rules.isHidden(".env")).toBe(true);
    expect(rules.isHidden("src/a.ts")).toBe(false);
    expect(rules.isReadonly("locked.txt")).toBe(true); // pkg/locked.txt from the root
    expect(rules.isReadonly("other.txt")).toBe(false);
    // Root-anchored globs name the root's paths, not the workspace's: .moat/** is the project's .moat.
    expect(rules.isReadonly(".moat/policy.yaml")).toBe(false);
  });

  test("a workspace reached through a symlink is matched by its real path", async () => {
    const link = join(base, "link");
    await symlink(project, link);
    const rules = await workspaceRules(mountsFor(project), link);
    expect(rules.dir).toBe(project);
    expect(rules.isHidden(".env")).toBe(true);
  });

  test("a ro mount makes everything read-only; the longest covering mount decides", async () => {
    await mkdir(join(project, "fixtures"));
    await projectPolicy(
      "version: 1\nfiles:\n  mounts:\n    - { host: ., guest: /workspace, mode: rw }\n    - { host: ./fixtures, guest: /fixtures, mode: ro }\n",
    );
    const mounts = mountsFor(project);
    const outer = await workspaceRules(mounts, project);
    expect(outer.mount.guestPath).toBe("/workspace");
    expect(outer.isReadonly("fixtures/a.json")).toBe(false); // only the covering mount's rules apply
    const inner = await workspaceRules(mounts, join(project, "fixtures"));
    expect(inner.mount.guestPath).toBe("/fixtures");
    for (const p of ["", "a.json", "deep/b.json"]) expect(inner.isReadonly(p), p).toBe(true);
    expect(inner.isHidden("a.json")).toBe(false);
    expect(inner.isHidden(".env")).toBe(true);
  });

  test("no mount covers the workspace: POLICY_VIOLATION naming it, with a fix", async () => {
    await mkdir(join(project, "src"));
    await projectPolicy("version: 1\nfiles:\n  mounts:\n    - { host: ./src, guest: /mnt/src, mode: rw }\n");
    // The project's mounts (its folder at the same path, and src) do not reach a folder beside it.
    const elsewhere = join(base, "elsewhere");
    await mkdir(elsewhere);
    const refused = workspaceRules(mountsFor(project), elsewhere);
    await expect(refused).rejects.toMatchObject({ code: SandboxErrorCode.POLICY_VIOLATION, message: expect.stringContaining(elsewhere) });
    await expect(refused).rejects.toMatchObject({ fix: expect.stringMatching(/files\.mounts.*--no-workspace/) });
    // A plan compiled without host checks has no mounts at all: refused as well.
    await expect(workspaceRules([], project)).rejects.toMatchObject({ code: SandboxErrorCode.POLICY_VIOLATION });
  });

  test("a workspace its mount hides is refused", async () => {
    await projectPolicy('version: 1\nfiles:\n  deny: ["pkg/**"]\n');
    await expect(workspaceRules(mountsFor(join(project, "pkg")), join(project, "pkg"))).rejects.toMatchObject({
      code: SandboxErrorCode.POLICY_VIOLATION,
      message: expect.stringContaining("is hidden by the sandbox policy"),
    });
  });
});
