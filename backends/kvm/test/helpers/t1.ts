/**
 * Running part A's T1 guest programs (backends/vmm/build/guest/<name>.bin, built by the @moat/vmm
 * package build) on the real KVM backend, with the console captured for assertions.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeVm, type NativeMachineConfig } from "../../src/index.js";

export const guestDir = fileURLToPath(new URL("../../../vmm/build/guest/", import.meta.url));
export const guestProgram = (name: string) => join(guestDir, `${name}.bin`);

/** Why the T1 programs cannot run, or undefined. */
export function t1SkipReason(): string | undefined {
  const missing = ["serial_hello", "blk_rw", "garbage_descriptors", "vsock_echo", "platform_check"].filter((n) => !existsSync(guestProgram(n)));
  return missing.length ? `T1 guest programs not built (${missing.join(", ")} in ${guestDir}): run pnpm --filter @moat/vmm build` : undefined;
}

export interface RunningPayload {
  vm: NativeVm;
  console: () => string;
  /** Resolves when the console contains `text`; rejects if the machine ends first. */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
}

export async function startPayload(name: string, args: string, extra: Partial<NativeMachineConfig> = {}): Promise<RunningPayload> {
  const vm = new NativeVm({
    vcpus: 1,
    memoryBytes: 128 * 1024 * 1024,
    testPayload: { path: guestProgram(name), args },
    consoleEvents: true,
    ...extra,
  });
  let text = "";
  const waiters = new Set<() => void>();
  vm.on("console", (data) => {
    text += data.toString("latin1");
    for (const w of waiters) w();
  });
  await vm.start();
  const waitFor = (needle: string, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (text.includes(needle)) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${JSON.stringify(needle)}; console:\n${text}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      vm.exited.then((exit) => {
        if (!text.includes(needle)) {
          cleanup();
          reject(new Error(`machine ended (${exit.reason} ${exit.status} ${exit.detail}) before ${JSON.stringify(needle)}; console:\n${text}`));
        }
      });
      check();
    });
  return { vm, console: () => text, waitFor };
}
