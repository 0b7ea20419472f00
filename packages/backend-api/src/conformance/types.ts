/** Types of the conformance kit: options a backend passes in, and the plain-function checks it runs. */
import type { Backend, Machine, MachineSpec, ProbeResult } from "../contract.js";

export interface ConformanceOptions {
  /**
   * A spec that really boots on this backend (real kernel, disks, vsock socket under `workDir`).
   * Without it, lifecycle checks skip with a printed reason even when the backend is available.
   */
  bootableSpec?: (context: { workDir: string }) => MachineSpec | Promise<MachineSpec>;
  /**
   * Runs against a started machine, e.g. connects to the guest agent over vsock and runs a command.
   * Throw to fail. Without it, the guest-check check skips with a printed reason.
   */
  guestCheck?: (machine: Machine, spec: MachineSpec) => Promise<void>;
  /** Upper bound for each single backend call (start, stop, wait, ...); default 60 s. */
  stepTimeoutMs?: number;
  /** vitest timeout per check; default 4 × stepTimeoutMs. */
  testTimeoutMs?: number;
  /** Contract version of the host (core) that will drive this backend; default CONTRACT_VERSION. */
  hostContractVersion?: string;
}

export type MakeBackend = () => Backend | Promise<Backend>;

/** What a check gets: a fresh backend, its (memoised) probe, options, and a scratch directory. */
export interface CheckContext {
  backend: Backend;
  probe: () => Promise<ProbeResult>;
  options: ConformanceOptions;
  workDir: string;
  stepTimeoutMs: number;
  /** Register a machine so the runner kills it after the check, whatever happened. */
  track: (machine: Machine) => Machine;
}

/** A check returns nothing when it passed, `{ skip }` to skip with a reason, or throws to fail. */
export type CheckOutcome = void | { skip: string };

export interface ConformanceCheck {
  id: string;
  title: string;
  run: (context: CheckContext) => Promise<CheckOutcome>;
}

export type CheckResult =
  | { id: string; title: string; status: "passed" }
  | { id: string; title: string; status: "skipped"; reason: string }
  | { id: string; title: string; status: "failed"; error: Error };
