/**
 * Spawning a sandbox's VMM host process (host/host-main.ts) detached from the caller, and waiting
 * until it reports that the agent is ready — or why it failed, with its log tail.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";
import type { HostMessage } from "../host/host-main.js";

/** dist/vmm-host.js beside the running bundle, or the core package's build when run from sources. */
export function findHostEntry(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MOAT_VMM_HOST_ENTRY) return env.MOAT_VMM_HOST_ENTRY;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "vmm-host.js"), join(here, "..", "..", "dist", "vmm-host.js")];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new SandboxError(SandboxErrorCode.START_FAILED, `the VMM host entry is not built (looked for ${candidates.join(", ")})`, {
      fix: "build the workspace: pnpm turbo run build",
    });
  }
  return found;
}

/**
 * Starts the host process; `onSpawned` gets its pid at once (so the record names the process that
 * serves it from the start, not only once the guest is ready), then this waits for the outcome.
 */
export async function spawnHostProcess(sandboxDir: string, controlPath: string, logPath: string, onSpawned: (pid: number) => Promise<unknown>): Promise<number> {
  const log = await open(logPath, "a", 0o600);
  const child = spawn(process.execPath, [findHostEntry(), sandboxDir, controlPath], {
    detached: true,
    stdio: ["ignore", log.fd, log.fd, "ipc"],
  });
  await log.close();
  const settled = new Promise<HostMessage | { type: "exited"; code: number | null }>((resolve) => {
    child.once("message", (m: HostMessage) => resolve(m));
    child.once("exit", (code) => resolve({ type: "exited", code }));
    child.once("error", (err) => resolve({ type: "failed", message: err.message }));
  });
  if (child.pid !== undefined) await onSpawned(child.pid);
  const outcome = await settled;
  if (child.connected) child.disconnect();
  child.unref();
  if (outcome.type === "ready") return child.pid!;
  const detail = "code" in outcome ? `the host process exited with status ${outcome.code}` : (outcome.message ?? "unknown failure");
  const tail = (await readFile(logPath, "utf8").catch(() => "")).slice(-2000).trim();
  throw new SandboxError(SandboxErrorCode.START_FAILED, `the sandbox did not start: ${detail}${tail ? `\nhost log tail:\n${tail}` : ""}`, {
    fix: "see `moat logs NAME` for the guest console; `moat doctor` checks the backends",
  });
}

/**
 * True when a process with that pid exists and has not exited (signal 0 probes without signalling).
 * A zombie — exited, not yet reaped, which is common for a detached host process whose reaper is slow
 * — counts as gone.
 */
export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return process.platform !== "linux"; // no /proc to ask: trust the signal probe
  }
}
