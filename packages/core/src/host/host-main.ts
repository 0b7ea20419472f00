/**
 * The VMM host process: one per running sandbox, so that a VMM fault never takes down the caller
 * and named sandboxes outlive the CLI. Started detached by Sandbox.start() as
 *   node vmm-host.js <sandbox-dir> <control-socket>
 * It reads launch.json, loads the backend, boots the machine, waits for the agent, then reports
 * "ready" over the IPC channel and serves the control socket until the machine ends. It records
 * how the machine ended (stopped, or crashed with the console tail) in sandbox.json and exits.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { loadBackend } from "../backends/index.js";
import { SandboxStore } from "../state/sandbox-store.js";
import { markEnded, markRunning } from "../state/transitions.js";
import { serveControl } from "./control-server.js";
import type { LaunchPlan } from "./launch-plan.js";
import { MachineRunner } from "./machine-runner.js";

export interface HostMessage {
  type: "ready" | "failed";
  message?: string;
}

function report(message: HostMessage): void {
  if (process.send) process.send(message);
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
    await store.update(name, (r) => markEnded(r, { reason: "crashed", detail: message }));
    report({ type: "failed", message });
    process.exitCode = 1;
    return;
  }

  await rm(controlPath, { force: true });
  const server = await serveControl(controlPath, {
    runner,
    status: () => ({ pid: process.pid, backend: plan.backend, startedAt, state: runner.machine.state }),
  });
  await store.update(name, (r) => markRunning(r, { pid: process.pid, backend: plan.backend, startedAt }));
  report({ type: "ready" });
  process.channel?.unref();

  const stopOnSignal = () => void runner.stop().catch(() => runner.kill());
  process.once("SIGTERM", stopOnSignal);
  process.once("SIGINT", stopOnSignal);

  const exit = await runner.wait();
  server.close();
  await rm(controlPath, { force: true });
  await store.update(name, (r) => markEnded(r, exit));
  process.exit(0);
}
