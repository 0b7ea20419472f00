/**
 * A moat backend through the backend contract: createMachine → start, ready = the marker in the
 * console log the backend writes (spec.consoleLogPath), then kill(). `moatQemu` runs the software
 * fallback (@moat/backend-qemu) in this process: its VMM is QEMU, a process of its own, whose RSS
 * stats().vmmRssBytes reports. moat's own VMM runs in a process of its own instead (moat-process.ts).
 * The helpers here (availability, spec, marker wait) serve both.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backend, BackendModule, MachineSpec } from "@moat/backend-api";
import type { BootImage } from "../image.js";
import { parseReadyLine, type Contender } from "./contender.js";
import { withScratchDir } from "./scratch.js";

export const BOOT_TIMEOUT_MS = 120_000;

export async function loadBackend(packageName: string): Promise<Backend> {
  const specifier = packageName; // a variable: the package may not exist at type-check time
  const module = (await import(specifier)) as BackendModule;
  return module.createBackend();
}

/** undefined when the backend package loads and its probe says it can run here; else why not. */
export async function backendUnavailableReason(packageName: string): Promise<string | undefined> {
  let backend: Backend;
  try {
    backend = await loadBackend(packageName);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return `${packageName} is not installed in this workspace`;
    return `${packageName} failed to load: ${(error as Error).message}`;
  }
  const probe = await backend.probe();
  return probe.available ? undefined : `${packageName} probe: ${probe.reason ?? "not available"}`;
}

/** The machine every moat contender boots: one vCPU, the image, no disks, console to a file. */
export function benchSpec(image: BootImage, consoleLogPath: string): MachineSpec {
  return {
    vcpus: 1,
    memoryMiB: image.memoryMiB,
    kernel: { path: image.kernel, cmdline: image.cmdline, initrd: image.initrd },
    disks: [],
    shares: [],
    consoleLogPath,
  };
}

/**
 * Polls the console log until the ready marker's line is complete; resolves with the guest uptime.
 * Rejects (with the console tail) when `ended()` turns true or after BOOT_TIMEOUT_MS.
 */
export async function waitForMarker(name: string, consoleLogPath: string, image: BootImage, started: number, ended: () => boolean): Promise<number> {
  for (;;) {
    let console = "";
    try {
      console = readFileSync(consoleLogPath, "latin1");
    } catch {
      // not created yet
    }
    const uptime = parseReadyLine(console, image.marker);
    if (uptime !== undefined) return uptime;
    if (ended() || performance.now() - started > BOOT_TIMEOUT_MS) {
      throw new Error(`${name}: no ready marker after ${Math.round(performance.now() - started)} ms. console tail:\n${console.slice(-2000)}`);
    }
    await sleep(2);
  }
}

/** A backend run in this process (its VMM is a separate process of the backend's own). */
export function inProcessBackend(name: string, packageName: string): Contender {
  return {
    name,
    unavailableReason: () => backendUnavailableReason(packageName),
    bootOnce: (image) =>
      withScratchDir(async (dir) => {
        const backend = await loadBackend(packageName);
        const consoleLogPath = `${dir}/console.log`;
        const started = performance.now();
        const machine = await backend.createMachine(benchSpec(image, consoleLogPath));
        await machine.start();
        let ended = false;
        void machine.wait().then(() => (ended = true));
        try {
          const uptime = await waitForMarker(name, consoleLogPath, image, started, () => ended);
          const readyMs = performance.now() - started;
          const stats = await machine.stats();
          const rss =
            stats.vmmRssBytes === undefined
              ? undefined
              : stats.guestResidentBytes === undefined
                ? { totalRssBytes: stats.vmmRssBytes, guestRssBytes: Number.NaN, overheadBytes: Number.NaN }
                : { totalRssBytes: stats.vmmRssBytes, guestRssBytes: stats.guestResidentBytes, overheadBytes: stats.vmmRssBytes - stats.guestResidentBytes };
          return { readyMs, guestUptimeS: uptime, rss };
        } finally {
          await machine.kill();
        }
      }),
  };
}

export const moatQemu = inProcessBackend("moat-qemu (fallback)", "@moat/backend-qemu");
