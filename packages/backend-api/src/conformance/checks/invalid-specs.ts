/** Check: createMachine() refuses every invalid spec with INVALID_SPEC naming the bad field. */
import { BackendErrorCode } from "../../errors/backend-error.js";
import { ensure, rejectsWith } from "../assert.js";
import { INVALID_VARIANTS, syntheticSpec } from "../specs.js";
import type { ConformanceCheck } from "../types.js";

export const invalidSpecsCheck: ConformanceCheck = {
  id: "invalid-specs",
  title: "createMachine() rejects invalid specs with INVALID_SPEC naming the field",
  async run({ backend, options, workDir, stepTimeoutMs, track }) {
    const base = options.bootableSpec ? await options.bootableSpec({ workDir }) : syntheticSpec(workDir);
    for (const variant of INVALID_VARIANTS) {
      const step = `createMachine(<${variant.label}>)`;
      const error = await rejectsWith(
        async () => track(await backend.createMachine(variant.make(base) as never)),
        [BackendErrorCode.INVALID_SPEC],
        step,
        stepTimeoutMs,
      );
      ensure(error.message.includes(variant.field), `${step}: the error must name the field "${variant.field}", got: ${error.message}`);
    }
  },
};
