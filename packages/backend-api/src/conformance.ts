/**
 * `@moat/backend-api/conformance`: the kit every backend runs against itself.
 *
 *   import { describeBackendConformance } from "@moat/backend-api/conformance";
 *   describeBackendConformance("kvm", () => createBackend(), { bootableSpec, guestCheck });
 *
 * The checks are plain async functions (`runConformanceChecks`), usable without vitest.
 */
export { describeBackendConformance } from "./conformance/describe.js";
export { CONFORMANCE_CHECKS, DEFAULT_STEP_TIMEOUT_MS, runConformanceCheck, runConformanceChecks } from "./conformance/runner.js";
export { ConformanceFailure } from "./conformance/assert.js";
export { INVALID_VARIANTS, syntheticSpec } from "./conformance/specs.js";
export type { CheckContext, CheckOutcome, CheckResult, ConformanceCheck, ConformanceOptions, MakeBackend } from "./conformance/types.js";
