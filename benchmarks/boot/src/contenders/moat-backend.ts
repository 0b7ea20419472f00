/**
 * A moat backend through the backend contract: createMachine → start, ready = the marker in the
 * console log the backend writes (spec.consoleLogPath), then kill(). Used for moat's VMM
 * (@moat/backend-kvm) and for the software fallback (@moat/backend-qemu: create → first output of a
 * sandbox where hardware virtualization is missing). RSS: when the VMM runs in this process
 * (in-process mode), the guest RAM mapping is found in our own smaps; otherwise the backend's
 * stats().vmmRssBytes is reported as the total.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backend, BackendModule } from "@moat/backend-api";
import type { BootImage } from "../image.js";
import { processRssBreakdown, type RssBreakdown } from "../smaps.js";
import { parseReadyLine, type BootSample, type Contender } from "./contender.js";

const BOOT_TIMEOUT_MS = 120_000;

export function moatBackend(name: string, packageName: string): Contender {
  async function loadBackend(): Promise<Backend> {
    const specifier = packageName; // a variable: the package may not exist at type-check time
    const module = (await import(specifier)) as BackendModule;
    return module.createBackend();
  }
  return {
    name,
    async unavailableReason() {
      let backend: Backend;
      try {
        backend = await loadBackend();
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return `${packageName} is not installed in this workspace`;
        return `${packageName} failed to load: ${(error as Error).message}`;
      }
      const probe = await backend.probe();
      return probe.available ? undefined : `${packageName} probe: ${probe.reason ?? "not available"}`;
    },
    async bootOnce(image: BootImage): Promise<BootSample> {
      const backend = await loadBackend();
      const dir = mkdtempSync(join(tmpdir(), "bench-boot-"));
      const consoleLogPath = join(dir, "console.log");
      try {
        const started = performance.now();
        const machine = await backend.createMachine({
          vcpus: 1,
          memoryMiB: image.memoryMiB,
          kernel: { path: image.kernel, cmdline: image.cmdline, initrd: image.initrd },
          disks: [],
          shares: [],
          consoleLogPath,
        });
        await machine.start();
        let ended = false;
        void machine.wait().then(() => (ended = true));
        for (;;) {
          let console = "";
          try {
            console = readFileSync(consoleLogPath, "latin1");
          } catch {
            // not created yet
          }
          const uptime = parseReadyLine(console, image.marker);
          if (uptime !== undefined) {
            const readyMs = performance.now() - started;
            const rss = sampleRss(image, (await machine.stats()).vmmRssBytes);
            await machine.kill();
            return { readyMs, guestUptimeS: uptime, rss };
          }
          if (ended || performance.now() - started > BOOT_TIMEOUT_MS) {
            await machine.kill();
            throw new Error(`${name}: no ready marker after ${Math.round(performance.now() - started)} ms. console tail:\n${console.slice(-2000)}`);
          }
          await sleep(2);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const moatKvm = moatBackend("moat-kvm", "@moat/backend-kvm");
export const moatQemu = moatBackend("moat-qemu (fallback)", "@moat/backend-qemu");

function sampleRss(image: BootImage, vmmRssBytes: number | undefined): RssBreakdown | undefined {
  try {
    return processRssBreakdown(process.pid, image.memoryMiB << 20); // in-process VMM
  } catch {
    return vmmRssBytes === undefined ? undefined : { totalRssBytes: vmmRssBytes, guestRssBytes: Number.NaN, overheadBytes: Number.NaN };
  }
}
