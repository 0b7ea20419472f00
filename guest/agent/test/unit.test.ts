/** Runs the C unit tests (build/agent-unit-tests: cmdline parsing, fs helpers; ASan + UBSan). */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { agentDir } from "./agent-harness.js";

it("C unit tests pass under ASan/UBSan", () => {
  const bin = join(agentDir, "build/agent-unit-tests");
  expect(existsSync(bin), `${bin} is missing: run make -C guest/agent asan (the package's build does)`).toBe(true);
  const r = spawnSync(bin, { encoding: "utf8" });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.status, out).toBe(0);
  expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
});
