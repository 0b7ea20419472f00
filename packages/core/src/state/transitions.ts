/**
 * The record changes of a sandbox's life, in one place for the VMM host process and for in-process
 * sandboxes alike: it runs (with the pid serving it), and it ended (stopped or crashed, and how).
 */
import type { SandboxRecord } from "./sandbox-record.js";

export function markRunning(r: SandboxRecord, run: { pid: number; backend: string; startedAt: string }): void {
  r.status = "running";
  r.hostPid = run.pid;
  r.runningBackend = run.backend;
  r.startedAt = run.startedAt;
}

/** A machine exit (or a failure to start, as reason "crashed" with its message). */
export function markEnded(r: SandboxRecord, exit: { reason: string; detail?: string }): void {
  r.status = exit.reason === "crashed" ? "crashed" : "stopped";
  r.stoppedAt = new Date().toISOString();
  r.lastExit = exit.detail ? { reason: exit.reason, detail: exit.detail } : { reason: exit.reason };
  delete r.hostPid;
}
