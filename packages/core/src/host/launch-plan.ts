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

/** Software emulation boots far slower than hardware virtualization. */
export function defaultReadyTimeoutMs(hardwareAccelerated: boolean): number {
  return hardwareAccelerated ? 30_000 : 180_000;
}
