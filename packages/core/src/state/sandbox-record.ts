/**
 * The persistent description of one sandbox (sandbox.json): what it was created with, where it
 * stands, and how it last ended. Parsing is strict: a file that does not have this shape is broken.
 */
export type SandboxStatus = "created" | "starting" | "running" | "stopping" | "stopped" | "crashed";

export interface SandboxRecord {
  schema: 1;
  name: string;
  /** Short random id; names runtime sockets. */
  id: string;
  createdAt: string;
  /** Backend asked for at create time (undefined: chosen at each start). */
  backend?: string;
  cpus: number;
  memoryMiB: number;
  /** Image flavour, e.g. "base". */
  image: string;
  env: Record<string, string>;
  /** Host directory made available in the guest at the same absolute path. */
  workspace?: string;
  status: SandboxStatus;
  /** PID of the VMM host process while one runs. */
  hostPid?: number;
  /** Backend that ran the last start. */
  runningBackend?: string;
  startedAt?: string;
  stoppedAt?: string;
  lastExit?: { reason: string; detail?: string };
  /** Removed after its first run ends (moat run --rm). */
  ephemeral?: boolean;
  /**
   * For an ephemeral sandbox: the process that created it. If that process dies without removing
   * it (moat run killed with SIGKILL), the VMM host process kills the machine and removes the sandbox.
   */
  ownerPid?: number;
}

const STATUSES = new Set<SandboxStatus>(["created", "starting", "running", "stopping", "stopped", "crashed"]);

/** Returns the problem with `value` as a SandboxRecord, or undefined when it is one. */
export function recordProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "not a JSON object";
  const r = value as Record<string, unknown>;
  if (r.schema !== 1) return `unknown schema ${JSON.stringify(r.schema)} (expected 1)`;
  for (const key of ["name", "id", "createdAt", "image"] as const) {
    if (typeof r[key] !== "string") return `"${key}" is not a string`;
  }
  for (const key of ["cpus", "memoryMiB"] as const) {
    if (typeof r[key] !== "number" || !Number.isInteger(r[key]) || (r[key] as number) <= 0) return `"${key}" is not a positive integer`;
  }
  if (typeof r.env !== "object" || r.env === null) return `"env" is not an object`;
  if (!STATUSES.has(r.status as SandboxStatus)) return `"status" ${JSON.stringify(r.status)} is not a known status`;
  return undefined;
}
