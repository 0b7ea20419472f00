/**
 * `describeBackendConformance()`: registers one vitest test per conformance check. A check that
 * cannot run here (backend unavailable, no bootable spec) is skipped with its reason printed.
 */
import { describe, test } from "vitest";
import { DEFAULT_STEP_TIMEOUT_MS, CONFORMANCE_CHECKS, runConformanceCheck } from "./runner.js";
import type { ConformanceOptions, MakeBackend } from "./types.js";

export function describeBackendConformance(name: string, makeBackend: MakeBackend, options: ConformanceOptions = {}): void {
  const timeout = options.testTimeoutMs ?? 4 * (options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS);
  describe(`backend conformance: ${name}`, () => {
    for (const check of CONFORMANCE_CHECKS) {
      test(`${check.id}: ${check.title}`, { timeout }, async (context) => {
        const result = await runConformanceCheck(check, makeBackend, options);
        if (result.status === "failed") throw result.error;
        if (result.status === "skipped") {
          console.log(`[conformance ${name}] skipped ${check.id}: ${result.reason}`);
          context.skip(result.reason);
        }
      });
    }
  });
}
