/**
 * One sandbox VM run by QEMU: starts the process (tied to its parent's life with setpriv's
 * parent-death signal, so no QEMU outlives the process that started it), follows its life
 * through QMP events, opens the agent's RPC channel, and reports how it ended — with QEMU's
 * stderr and the console tail when it crashed.
 */
import {
  BackendError,
  BackendErrorCode,
  type Machine,
  type MachineExit,
  type MachineSpec,
  type MachineState,
  type MachineStats,
} from "@moat/backend-api";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { AcceleratorChoice } from "./accelerator.js";
import { AGENT_RPC_PORT, CONTROL_PORT_ID, RPC_PORT_ID, type RuntimePaths, qemuArguments } from "./command-line.js";
import { QmpClient, type QmpEvent } from "./qmp.js";
import type { QemuBinary } from "./qemu-binary.js";
import { TailBuffer } from "./tail-buffer.js";

const BACKEND = "qemu";
const QMP_WAIT_MS = 15_000;
const SETPRIV = "/usr/bin/setpriv";

/** Longest runtimeDir used for the sockets: "/moat-qemu-XXXXXX/ctl.sock" adds 26 bytes, sun_path holds 107. */
const MAX_RUNTIME_BASE = 80;

export class QemuMachine implements Machine {
  private currentState: MachineState = "created";
  private child: ChildProcess | undefined;
  private qmp: QmpClient | undefined;
  private paths: RuntimePaths | undefined;
  private runtimeDir: string | undefined;
  private readonly stderrTail = new TailBuffer(8192);
  private readonly openPorts = new Set<string>();
  private shutdownReason: string | undefined;
  private killRequested = false;
  private startedAt = 0;
  private readonly exited: Promise<MachineExit>;
  private resolveExit!: (exit: MachineExit) => void;

  constructor(
    readonly spec: MachineSpec,
    private readonly qemu: QemuBinary,
    private readonly accel: AcceleratorChoice,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get state(): MachineState {
    return this.currentState;
  }

  /** The QEMU fallback has no hybrid-vsock socket: use `connect(1024)`. */
  get vsockPath(): string | undefined {
    return undefined;
  }

  /** The accelerator this machine runs on and why. */
  get accelerator(): AcceleratorChoice {
    return this.accel;
  }

  async start(): Promise<void> {
    if (this.currentState !== "created") {
      throw new BackendError(BackendErrorCode.INVALID_STATE, `start(): the machine is ${this.currentState}, not created`, { backend: BACKEND });
    }
    this.currentState = "starting";
    // In the caller's runtime directory when it gives one (it is removed even after a SIGKILL of
    // this process), unless that would push the socket paths past sun_path's 107 bytes.
    const base = this.spec.runtimeDir && this.spec.runtimeDir.length <= MAX_RUNTIME_BASE ? this.spec.runtimeDir : tmpdir();
    this.runtimeDir = await mkdtemp(join(base, "moat-qemu-"));
    const paths: RuntimePaths = {
      qmpSocket: join(this.runtimeDir, "qmp.sock"),
      rpcSocket: join(this.runtimeDir, "rpc.sock"),
      controlSocket: join(this.runtimeDir, "ctl.sock"),
      pidFile: join(this.runtimeDir, "qemu.pid"),
      consoleLog: this.spec.consoleLogPath ?? join(this.runtimeDir, "console.log"),
    };
    this.paths = paths;
    const args = qemuArguments(this.spec, this.accel.accelerator, paths);
    const [file, argv] = existsSync(SETPRIV)
      ? [SETPRIV, ["--pdeathsig", "KILL", "--", this.qemu.path, ...args]]
      : [this.qemu.path, args];
    const child = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.startedAt = Date.now();
    child.stdout?.on("data", (d: Buffer) => this.stderrTail.push(d));
    child.stderr?.on("data", (d: Buffer) => this.stderrTail.push(d));
    const spawnFailed = new Promise<never>((_, reject) => child.once("error", reject));
    child.once("exit", (code, signal) => void this.onExit(code, signal));

    try {
      this.qmp = await Promise.race([this.connectQmp(paths.qmpSocket), spawnFailed, this.exitedEarly()]);
    } catch (cause) {
      child.kill("SIGKILL");
      const exit = await this.exited;
      throw new BackendError(BackendErrorCode.BOOT_FAILED, `QEMU did not start: ${exit.detail ?? String(cause)}`, {
        backend: BACKEND,
        cause,
      });
    }
    this.qmp.on("event", (e) => this.onQmpEvent(e));
    this.currentState = "running";
  }

  async connect(port: number): Promise<Duplex> {
    if (port !== AGENT_RPC_PORT) {
      throw new BackendError(BackendErrorCode.UNSUPPORTED, `the QEMU backend carries only guest port ${AGENT_RPC_PORT} (asked for ${port})`, { backend: BACKEND });
    }
    if (this.currentState !== "running" || !this.paths) {
      throw new BackendError(BackendErrorCode.INVALID_STATE, `connect(): the machine is ${this.currentState}`, { backend: BACKEND });
    }
    if (!this.openPorts.has(RPC_PORT_ID)) {
      throw new BackendError(BackendErrorCode.UNAVAILABLE, "the guest agent has not opened its RPC port (moat.rpc) yet", { backend: BACKEND });
    }
    return connectUnix(this.paths.rpcSocket);
  }

  async stop(options: { graceful?: boolean; timeoutMs?: number } = {}): Promise<MachineExit> {
    if (!this.child || this.isEnded()) return this.endedOrNotStarted();
    const { graceful = true, timeoutMs = 10_000 } = options;
    if (graceful && this.openPorts.has(CONTROL_PORT_ID) && this.paths) {
      this.currentState = "stopping";
      try {
        const ctl = await connectUnix(this.paths.controlSocket);
        ctl.end("poweroff\n");
        const exit = await Promise.race([this.exited, delay(timeoutMs).then(() => undefined)]);
        if (exit) return exit;
      } catch {
        // fall through to kill
      }
    }
    return this.kill();
  }

  async kill(): Promise<MachineExit> {
    if (!this.child || this.isEnded()) return this.endedOrNotStarted();
    this.killRequested = true;
    this.currentState = "stopping";
    this.child.kill("SIGKILL");
    return this.exited;
  }

  wait(): Promise<MachineExit> {
    return this.exited;
  }

  async pause(): Promise<void> {
    await this.requireQmp("pause").execute("stop");
    this.currentState = "paused";
  }

  async resume(): Promise<void> {
    await this.requireQmp("resume").execute("cont");
    this.currentState = "running";
  }

  async snapshot(): Promise<void> {
    throw new BackendError(BackendErrorCode.UNSUPPORTED, "the QEMU backend does not implement snapshots", { backend: BACKEND });
  }

  async stats(): Promise<MachineStats> {
    return {
      state: this.currentState,
      vcpus: this.spec.vcpus,
      memoryMiB: this.spec.memoryMiB,
      vmmRssBytes: await readRss(this.child?.pid),
      uptimeMs: this.startedAt ? Date.now() - this.startedAt : 0,
    };
  }

  private isEnded(): boolean {
    return this.currentState === "stopped" || this.currentState === "crashed";
  }

  private async endedOrNotStarted(): Promise<MachineExit> {
    if (this.child) return this.exited;
    throw new BackendError(BackendErrorCode.INVALID_STATE, "the machine was never started", { backend: BACKEND });
  }

  private requireQmp(what: string): QmpClient {
    if (!this.qmp || this.currentState === "stopped" || this.currentState === "crashed") {
      throw new BackendError(BackendErrorCode.INVALID_STATE, `${what}(): the machine is ${this.currentState}`, { backend: BACKEND });
    }
    return this.qmp;
  }

  private async connectQmp(path: string): Promise<QmpClient> {
    const deadline = Date.now() + QMP_WAIT_MS;
    for (;;) {
      try {
        return await QmpClient.connect(path);
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`no QMP socket at ${path} after ${QMP_WAIT_MS} ms`, { cause: err });
        await delay(20);
      }
    }
  }

  private exitedEarly(): Promise<never> {
    return this.exited.then((exit) => {
      throw new Error(exit.detail ?? `QEMU exited (${exit.reason})`);
    });
  }

  private onQmpEvent(e: QmpEvent): void {
    if (e.event === "SHUTDOWN") this.shutdownReason = String(e.data?.reason ?? "");
    if (e.event === "VSERPORT_CHANGE") {
      const id = String(e.data?.id ?? "");
      if (e.data?.open) this.openPorts.add(id);
      else this.openPorts.delete(id);
    }
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.qmp?.close();
    const exit = await this.classifyExit(code, signal);
    this.currentState = exit.reason === "crashed" ? "crashed" : "stopped";
    if (this.runtimeDir) await rm(this.runtimeDir, { recursive: true, force: true });
    this.resolveExit(exit);
  }

  private async classifyExit(code: number | null, signal: NodeJS.Signals | null): Promise<MachineExit> {
    if (this.killRequested) return { reason: "killed" };
    switch (this.shutdownReason) {
      case "guest-shutdown":
        return { reason: "poweroff" };
      case "guest-reset":
        return { reason: "reboot" };
      case "host-qmp-quit":
      case "host-signal":
        return { reason: "killed" };
    }
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    const stderr = this.stderrTail.text().trim();
    const consoleTail = await readTail(this.paths?.consoleLog, 2048);
    const detail = [
      `QEMU ${how}${this.shutdownReason ? ` (shutdown reason: ${this.shutdownReason})` : ""}`,
      stderr && `QEMU stderr:\n${stderr}`,
      consoleTail && `console tail:\n${consoleTail}`,
    ]
      .filter(Boolean)
      .join("\n");
    return { reason: "crashed", detail };
  }
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readRss(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function readTail(path: string | undefined, bytes: number): Promise<string> {
  if (!path) return "";
  try {
    const file = await open(path, "r");
    try {
      const { size } = await file.stat();
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      await file.read(buf, 0, buf.length, start);
      return buf.toString("utf8").trim();
    } finally {
      await file.close();
    }
  } catch {
    return "";
  }
}
