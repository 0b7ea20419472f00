/** Shared by the lifecycle checks: the bootable spec, or the reason the check must skip. */
import type { MachineSpec } from "../../contract.js";
import type { CheckContext } from "../types.js";

export async function bootableSpecOrSkip(context: CheckContext): Promise<MachineSpec | { skip: string }> {
  const result = await context.probe();
  if (!result.available) return { skip: `backend "${context.backend.name}" is unavailable here: ${result.reason ?? "no reason given"}` };
  if (!context.options.bootableSpec) return { skip: "no bootableSpec option given, so there is no guest to boot" };
  return context.options.bootableSpec({ workDir: context.workDir });
}

export const EXIT_REASONS = ["poweroff", "reboot", "killed", "crashed"];
export const ENDED_STATES = ["stopped", "crashed"];
