/**
 * Runs the T0 unit tests of the x86_64 boot code (test/native/boot_test.cc, doctest, built by the
 * package build): PVH and bzImage loading, MP table, E820, CPUID filter, T1 payload layout.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const binary = fileURLToPath(new URL("../build/boot_test", import.meta.url));
const missing = existsSync(binary) ? undefined : `${binary} is not built (needs doctest-dev; run pnpm --filter @moat/backend-kvm build)`;
if (missing) console.log(`[backend-kvm] skipping boot unit tests: ${missing}`);

test.skipIf(missing)("boot code unit tests (doctest) pass", () => {
  const r = spawnSync(binary, [], { encoding: "utf8", timeout: 60_000 });
  const output = `${r.stdout}${r.stderr}`;
  expect(r.signal, output).toBeNull();
  expect(r.status, output).toBe(0);
  expect(output).toMatch(/Status: SUCCESS/);
  console.log(output.trim().split("\n").slice(-3).join("\n"));
});
