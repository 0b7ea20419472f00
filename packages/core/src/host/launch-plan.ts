/**
 * What a VMM host process needs to run one sandbox, decided by the caller before it spawns one:
 * the backend by name and a complete MachineSpec. Written to the sandbox directory as launch.json.
 */
import type { MachineSpec } from "@moat/backend-api";

/** The guest port the agent serves its RPC on. */
export const AGENT_PORT = 1024;

export interface LaunchPlan {
  backend: string;
  spec: MachineSpec;
  /** How long to wait for the agent's hello after the machine starts. */
  readyTimeoutMs: number;
}

/**
 * How long to wait for the agent: a ceiling, not a delay (a hardware-KVM boot takes well under a
 * second). Software emulation, and KVM nested under software emulation (our test harness, where a
 * boot takes 20-40 s), are far slower. MOAT_READY_TIMEOUT_MS overrides.
 */
export function defaultReadyTimeoutMs(hardwareAccelerated: boolean, env: NodeJS.ProcessEnv = process.env): number {
  return readyTimeoutOverride(env) ?? (hardwareAccelerated ? 120_000 : 300_000);
}

/** MOAT_READY_TIMEOUT_MS when it is a positive integer, else undefined. */
export function readyTimeoutOverride(env: NodeJS.ProcessEnv): number | undefined {
  const override = Number(env.MOAT_READY_TIMEOUT_MS);
  return Number.isInteger(override) && override > 0 ? override : undefined;
}
