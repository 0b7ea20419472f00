/**
 * Test support for the workspace tests: a temp directory per test (real path, with an empty home
 * and no user policy) and the mounts Sandbox.create would compile for a workspace in it.
 */
import { type MountEntry, loadEffectivePolicy } from "@moat/policy";
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect } from "vitest";

/** Registers beforeEach/afterEach hooks; `current()` is the test's temp directory. */
export function tempBase(prefix: string): { current: () => string } {
  let base = "";
  beforeEach(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), prefix)));
    await mkdir(join(base, "home"));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });
  return { current: () => base };
}

/** The mounts of the effective policy for `workspace` (host checks on); fails the test on a policy error. */
export function compiledMounts(base: string, workspace: string): MountEntry[] {
  const result = loadEffectivePolicy({ cwd: workspace, env: { XDG_CONFIG_HOME: join(base, "config") }, homeDir: join(base, "home"), hostChecks: true });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.plan.mounts;
}
