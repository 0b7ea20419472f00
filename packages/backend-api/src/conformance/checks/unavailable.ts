/** Check: an unavailable backend refuses to run a machine with a typed error, never silently. */
import { BackendErrorCode } from "../../errors/backend-error.js";
import { rejectsWith } from "../assert.js";
import { syntheticSpec } from "../specs.js";
import type { ConformanceCheck } from "../types.js";

const REFUSALS = [BackendErrorCode.UNAVAILABLE, BackendErrorCode.NOT_INSTALLED, BackendErrorCode.UNSUPPORTED, BackendErrorCode.BOOT_FAILED];

export const unavailableRefusesCheck: ConformanceCheck = {
  id: "unavailable-refuses",
  title: "when probe() says unavailable, createMachine()/start() reject with a typed error",
  async run({ backend, probe, workDir, stepTimeoutMs, track }) {
    const result = await probe();
    if (result.available) return { skip: "probe() says available; the lifecycle checks cover it" };
    await rejectsWith(
      async () => {
        const machine = track(await backend.createMachine(syntheticSpec(workDir)));
        await machine.start();
      },
      REFUSALS,
      "createMachine(<valid spec>) then start() on an unavailable backend",
      stepTimeoutMs,
    );
  },
};
