/**
 * Runs conformance checks as plain async functions (no test framework): each gets a fresh backend
 * and scratch directory, and every machine it created is killed afterwards. `describe.ts` wraps these
 * in vitest tests; tests of the kit itself call `runConformanceChecks()` directly.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Machine, ProbeResult } from "../contract.js";
import { within } from "./assert.js";
import { identityCheck } from "./checks/identity.js";
import { invalidSpecsCheck } from "./checks/invalid-specs.js";
import { guestCheck, killCheck, pauseResumeCheck, startStopCheck } from "./checks/lifecycle.js";
import { probeShapeCheck, probeStableCheck } from "./checks/probe.js";
import { unavailableRefusesCheck } from "./checks/unavailable.js";
import type { CheckResult, ConformanceCheck, ConformanceOptions, MakeBackend } from "./types.js";

/** Every check, in the order they run. */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  identityCheck,
  probeShapeCheck,
  probeStableCheck,
  invalidSpecsCheck,
  unavailableRefusesCheck,
  startStopCheck,
  killCheck,
  pauseResumeCheck,
  guestCheck,
];

export const DEFAULT_STEP_TIMEOUT_MS = 60_000;

/** Memoises one probe() per backend instance, so all checks of a run see the same verdict. */
function probeOnce(backend: { probe(): Promise<ProbeResult> }, ms: number): () => Promise<ProbeResult> {
  let result: Promise<ProbeResult> | undefined;
  return () => (result ??= within(Promise.resolve().then(() => backend.probe()), ms, "probe()"));
}

export async function runConformanceCheck(check: ConformanceCheck, makeBackend: MakeBackend, options: ConformanceOptions = {}): Promise<CheckResult> {
  const stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const workDir = await mkdtemp(join(tmpdir(), "moat-conformance-"));
  const machines: Machine[] = [];
  const base = { id: check.id, title: check.title };
  try {
    const backend = await makeBackend();
    const outcome = await check.run({
      backend,
      probe: probeOnce(backend, stepTimeoutMs),
      options,
      workDir,
      stepTimeoutMs,
      track: (machine) => (machines.push(machine), machine),
    });
    return outcome && "skip" in outcome ? { ...base, status: "skipped", reason: outcome.skip } : { ...base, status: "passed" };
  } catch (error) {
    return { ...base, status: "failed", error: error instanceof Error ? error : new Error(String(error)) };
  } finally {
    for (const machine of machines) {
      if (machine.state !== "stopped" && machine.state !== "crashed") {
        await within(Promise.resolve().then(() => machine.kill()), stepTimeoutMs, "cleanup kill()").catch(() => undefined);
      }
    }
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Runs every check (or those whose id is in `only`) in order and returns their results. */
export async function runConformanceChecks(makeBackend: MakeBackend, options: ConformanceOptions = {}, only?: readonly string[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of CONFORMANCE_CHECKS) {
    if (only && !only.includes(check.id)) continue;
    results.push(await runConformanceCheck(check, makeBackend, options));
  }
  return results;
}
