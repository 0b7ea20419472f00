/**
 * One booted sandbox for the e2e suite: a real Machine from the backend under test, the agent's
 * ready marker awaited on its console log, and an RpcClient over Machine.connect(1024).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backend, BackendModule, Machine, MachineSpec } from "@moat/backend-api";
import { RpcClient } from "@moat/rpc";
import { AGENT_PORT, sandboxSpec, type GuestArtifacts } from "./guest-artifacts.js";

/** Which backend the suite drives: MOAT_E2E_BACKEND (default "kvm"), loaded as @moat/backend-<name>. */
export const backendName = process.env.MOAT_E2E_BACKEND ?? "kvm";

export async function loadBackend(): Promise<Backend> {
  const specifier = `@moat/backend-${backendName}`;
  let module: BackendModule;
  try {
    module = (await import(specifier)) as BackendModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(`${specifier} is not installed in this workspace (add it to tools/nested-kvm's devDependencies once it exists)`, { cause: error });
    }
    throw error;
  }
  return module.createBackend();
}

const READY = /^MOAT_AGENT_READY\b.*$/m;
const FATAL = /^MOAT_AGENT_FATAL: .*$/m;

export function consoleText(spec: MachineSpec): string {
  try {
    return readFileSync(spec.consoleLogPath!, "utf8");
  } catch {
    return "";
  }
}

/** Waits for MOAT_AGENT_READY on the console; fails on MOAT_AGENT_FATAL, a machine that ended, or timeout. */
export async function waitForAgent(machine: Machine, spec: MachineSpec, timeoutMs = 120_000): Promise<string> {
  let ended: string | undefined;
  void machine.wait().then((exit) => (ended = `${exit.reason}${exit.detail ? `: ${exit.detail}` : ""}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = consoleText(spec);
    const ready = READY.exec(text);
    if (ready) return ready[0];
    const fatal = FATAL.exec(text);
    const tail = text.split("\n").slice(-30).join("\n");
    if (fatal) throw new Error(`the agent failed: ${fatal[0]}\nconsole tail:\n${tail}`);
    if (ended) throw new Error(`the machine ended (${ended}) before MOAT_AGENT_READY\nconsole tail:\n${tail}`);
    if (Date.now() > deadline) throw new Error(`no MOAT_AGENT_READY within ${timeoutMs / 1000}s\nconsole tail:\n${tail}`);
    await sleep(50);
  }
}

export interface Sandbox {
  machine: Machine;
  spec: MachineSpec;
  client: RpcClient;
  workDir: string;
  /** ms from createMachine to the agent's HELLO answered. */
  bootMs: number;
  /** Kills the machine (if still running) and removes the work dir. */
  dispose(): Promise<void>;
}

let nextCid = 3;

export async function bootSandbox(backend: Backend, artifacts: GuestArtifacts): Promise<Sandbox> {
  const workDir = mkdtempSync(join(tmpdir(), "moat-e2e-"));
  const spec = sandboxSpec(artifacts, workDir, nextCid++);
  const started = Date.now();
  const machine = await backend.createMachine(spec);
  const dispose = async () => {
    await machine.kill().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await machine.start();
    await waitForAgent(machine, spec);
    const client = await RpcClient.connect(await machine.connect(AGENT_PORT), { timeoutMs: 30_000 });
    return { machine, spec, client, workDir, bootMs: Date.now() - started, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
