/**
 * The HVF backend against the conformance kit. It is not implemented yet, so probe() says
 * unavailable and the lifecycle checks skip with that reason; the checks that do run (shape,
 * honesty, spec validation, typed refusal) must pass on every platform.
 */
import { describeBackendConformance } from "@moat/backend-api/conformance";
import { expect, test } from "vitest";
import { createBackend, NOT_BUILT_REASON } from "../src/index.js";

describeBackendConformance("hvf", createBackend);

test("probe() says not built, with a fix", async () => {
  expect(await createBackend().probe()).toMatchObject({ available: false, reason: NOT_BUILT_REASON, fix: expect.stringContaining("moat doctor") });
  expect(NOT_BUILT_REASON).toBe("not built: the HVF backend is not implemented yet");
});
