/**
 * Runs one machine from a LaunchPlan until it ends: starts it, waits for the guest agent's hello,
 * hands out connections to guest ports, and stops it — gracefully through the agent's shutdown
 * call, then by force. Every caller of the agent shares one agent connection through an RpcRelay
 * (opened by the boot's wait for the agent), so concurrent callers work on transports that carry
 * one stream per port (the QEMU fallback). How it ended is read against this boot's console (a
 * kernel panic is a crash, see guest-panic.ts). Used by the VMM host process and by in-process
 * sandboxes alike.
 */
import { type Backend, type Machine, type MachineExit, createDuplexPair } from "@moat/backend-api";
import { RpcClient, RpcRelay } from "@moat/rpc";
import { type Duplex, pipeline } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";
import { consoleOffset, explainExit } from "./guest-panic.js";
import { AGENT_PORT, type LaunchPlan } from "./launch-plan.js";

const HELLO_TIMEOUT_MS = 5_000;
const RETRY_MS = 100;

export class MachineRunner {
  private ended: MachineExit | undefined;
  private readonly explained: Promise<MachineExit>;
  private readonly relay: RpcRelay;

  private constructor(
    readonly machine: Machine,
    consolePath: string | undefined,
    consoleStart: number,
    agentTimeoutMs: number,
  ) {
    this.explained = machine.wait().then((exit) => explainExit(exit, consolePath, consoleStart));
    // A software-emulated guest on a loaded host can stall for seconds: the relay's HELLO to the
    // agent (at boot, and after the agent ended a connection) gets the boot's patience.
    this.relay = new RpcRelay({ dial: () => machine.connect(AGENT_PORT), helloTimeoutMs: agentTimeoutMs, softwareVersion: "@moat/core relay" });
    void this.explained.then((exit) => {
      this.ended = exit;
      this.relay.close();
    });
  }

  static async start(plan: LaunchPlan, backend: Backend): Promise<MachineRunner> {
    const machine = await backend.createMachine(plan.spec);
    const consoleStart = await consoleOffset(plan.spec.consoleLogPath);
    await machine.start();
    const runner = new MachineRunner(machine, plan.spec.consoleLogPath, consoleStart, plan.readyTimeoutMs);
    try {
      await runner.waitForAgent(plan.readyTimeoutMs);
    } catch (err) {
      await machine.kill().catch(() => undefined);
      throw err;
    }
    return runner;
  }

  get exit(): MachineExit | undefined {
    return this.ended;
  }

  /** A stream to a guest port (the agent's: a caller of the shared agent connection). */
  async connect(port: number): Promise<Duplex> {
    const serve = await this.serve(port);
    const [mine, theirs] = createDuplexPair();
    serve(theirs);
    return mine;
  }

  /**
   * Makes sure the guest port can be reached (rejecting if not) and returns how to serve a caller's
   * socket on it: the agent's port through the relay, any other port spliced to its own connection.
   */
  async serve(port: number): Promise<(socket: Duplex) => void> {
    if (port === AGENT_PORT) {
      await this.relay.ready();
      return (socket) => this.relay.attach(socket);
    }
    const guest = await this.machine.connect(port);
    return (socket) =>
      pipeline(socket, guest, socket, () => {
        socket.destroy();
        guest.destroy();
      });
  }

  /** Asks the agent to power off, waits up to timeoutMs, then kills. */
  async stop(timeoutMs = 15_000): Promise<MachineExit> {
    if (this.ended) return this.ended;
    const deadline = Date.now() + timeoutMs;
    try {
      const client = await RpcClient.connect(await this.connect(AGENT_PORT), { timeoutMs: Math.min(HELLO_TIMEOUT_MS, timeoutMs) });
      await client.shutdown({ poweroff: true }).catch(() => undefined);
      await client.close();
      const exit = await Promise.race([this.explained, sleep(Math.max(0, deadline - Date.now())).then(() => undefined)]);
      if (exit) return exit;
    } catch {
      // the agent is gone or stuck: fall back to the backend's own stop
    }
    await this.machine.stop({ graceful: true, timeoutMs: Math.max(1_000, deadline - Date.now()) });
    return this.explained;
  }

  async kill(): Promise<MachineExit> {
    this.relay.close();
    await this.machine.kill();
    return this.explained;
  }

  /** How the machine ended, a kernel panic reported as "crashed" (see guest-panic.ts). */
  wait(): Promise<MachineExit> {
    return this.explained;
  }

  private async waitForAgent(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (this.ended) {
        throw new SandboxError(SandboxErrorCode.START_FAILED, `the VM ended before its agent answered (${this.ended.reason})${this.ended.detail ? `:\n${this.ended.detail}` : ""}`);
      }
      try {
        // The relay's connection is the one every caller then shares: no probe connection to close
        // and reopen (see RpcRelay on what a reopened virtio-serial port can carry over).
        await this.relay.ready();
        return;
      } catch (err) {
        lastError = err;
        await sleep(RETRY_MS);
      }
    }
    throw new SandboxError(SandboxErrorCode.AGENT_UNREACHABLE, `the guest agent did not answer within ${Math.round(timeoutMs / 1000)} s`, {
      cause: lastError,
      fix: "see the console log (moat logs NAME) for how far the guest got",
    });
  }
}
