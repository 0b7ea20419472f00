/**
 * The VMM host process: one per running sandbox, so that a VMM fault never takes down the caller
 * and named sandboxes outlive the CLI. Started detached by Sandbox.start() as
 *   node vmm-host.js <sandbox-dir> <control-socket>
 * It reads launch.json, loads the backend, boots the machine, waits for the agent, then reports
 * "ready" over the IPC channel and serves the control socket until the machine ends. It records
 * how the machine ended (stopped, or crashed with the console tail) in sandbox.json and exits. An
 * ephemeral sandbox whose creator died without removing it (moat run killed) is killed and removed.
 */
import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { loadBackend } from "../backends/index.js";
import { processAlive } from "../sandbox/host-process.js";
import { SandboxStore } from "../state/sandbox-store.js";
import { markEnded, markRunning } from "../state/transitions.js";
import { serveControl } from "./control-server.js";
import type { LaunchPlan } from "./launch-plan.js";
import { MachineRunner } from "./machine-runner.js";

export interface HostMessage {
  type: "ready" | "failed";
  message?: string;
}

/** Tells the starter; one that has gone (moat run interrupted during boot) is not an error here. */
function report(message: HostMessage): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
}

export async function hostMain(sandboxDir: string, controlPath: string): Promise<void> {
  const name = sandboxDir.replace(/\/+$/, "").split("/").pop()!;
  const store = new SandboxStore(join(sandboxDir, ".."));
  const plan = JSON.parse(await readFile(join(sandboxDir, "launch.json"), "utf8")) as LaunchPlan;
  const startedAt = new Date().toISOString();

  let runner: MachineRunner;
  try {
    const backend = await loadBackend(plan.backend);
    runner = await MachineRunner.start(plan, backend);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const record = await store.update(name, (r) => markEnded(r, { reason: "crashed", detail: message }));
    if (record.ownerPid !== undefined && !processAlive(record.ownerPid)) await store.remove(name, dirname(controlPath));
    report({ type: "failed", message });
    process.exitCode = 1;
    return;
  }

  await rm(controlPath, { force: true });
  const server = await serveControl(controlPath, {
    runner,
    status: () => ({ pid: process.pid, backend: plan.backend, startedAt, state: runner.machine.state }),
  });
  const running = await store.update(name, (r) => markRunning(r, { pid: process.pid, backend: plan.backend, startedAt }));
  report({ type: "ready" });
  process.channel?.unref();

  const stopOnSignal = () => void runner.stop().catch(() => runner.kill());
  process.once("SIGTERM", stopOnSignal);
  process.once("SIGINT", stopOnSignal);
  const orphaned = watchOwner(running.ownerPid, () => void runner.kill());

  const exit = await runner.wait();
  orphaned.stop();
  server.close();
  await rm(controlPath, { force: true });
  if (orphaned.fired) {
    await store.remove(name, dirname(controlPath));
  } else {
    await store.update(name, (r) => markEnded(r, exit));
  }
  process.exit(0);
}

/** How often an ephemeral sandbox's host process checks that the process that made it still lives. */
const OWNER_POLL_MS = 1_000;

/** Calls onGone once the owner process is gone; without an owner, never. */
function watchOwner(ownerPid: number | undefined, onGone: () => void): { fired: boolean; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const watch = { fired: false, stop: () => clearInterval(timer) };
  if (ownerPid === undefined) return watch;
  timer = setInterval(() => {
    if (processAlive(ownerPid)) return;
    watch.fired = true;
    watch.stop();
    onGone();
  }, OWNER_POLL_MS).unref();
  return watch;
}
