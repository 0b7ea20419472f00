/**
 * KvmMachine: the contract's Machine over one NativeVm — the state machine created → starting →
 * running ⇄ paused → stopped | crashed, exits mapped to MachineExit, vsock streams through the
 * hybrid socket, and clean-up of the socket files the VMM created.
 *
 * Graceful stop: moat's VMM has no ACPI power button, so the guest is asked to power off by the
 * agent over RPC (@moat/core does that); stop({ graceful: true }) then waits up to timeoutMs
 * (default 5 s) for the guest to end by itself before it kills the machine.
 */
import { rmSync } from "node:fs";
import type { Duplex } from "node:stream";
import {
  BackendError,
  BackendErrorCode,
  type Machine,
  type MachineExit,
  type MachineSpec,
  type MachineState,
  type MachineStats,
} from "@moat/backend-api";
import { connectHybridVsock } from "./hybrid-vsock.js";
import type { NativeMachineConfig, NativeStartInfo } from "./native.js";
import { NativeVm, type NativeExit } from "./native-vm.js";

const DEFAULT_GRACE_MS = 5000;

function toMachineExit(exit: NativeExit): MachineExit {
  if (exit.reason === "poweroff" && exit.status !== 0) return { reason: "poweroff", detail: `exit status ${exit.status}${exit.detail ? `: ${exit.detail}` : ""}` };
  return exit.detail ? { reason: exit.reason, detail: exit.detail } : { reason: exit.reason };
}

export class KvmMachine implements Machine {
  readonly spec: MachineSpec;
  readonly config: NativeMachineConfig;
  /** What the VMM announced at start (command line, devices); undefined before start(). */
  startInfo: NativeStartInfo | undefined;
  private currentState: MachineState = "created";
  private vm: NativeVm | undefined;
  private exit: MachineExit | undefined;
  private startedAt = 0;
  private readonly ended: Promise<MachineExit>;
  private resolveEnded!: (exit: MachineExit) => void;

  constructor(spec: MachineSpec, config: NativeMachineConfig) {
    this.spec = spec;
    this.config = config;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  get state(): MachineState {
    return this.currentState;
  }

  get vsockPath(): string | undefined {
    return this.spec.vsock?.udsPath;
  }

  /** The running NativeVm (console events), for tests and the VMM host process. */
  get native(): NativeVm | undefined {
    return this.vm;
  }

  async start(): Promise<void> {
    if (this.currentState !== "created") {
      throw new BackendError(BackendErrorCode.INVALID_STATE, `start() on a machine that is ${this.currentState}: a machine boots once`, { backend: "kvm" });
    }
    this.currentState = "starting";
    const vm = new NativeVm(this.config);
    this.vm = vm;
    vm.exited.then((exit) => this.onExit(exit));
    try {
      this.startInfo = await vm.start();
    } catch (cause) {
      this.removeSocketFiles();
      throw new BackendError(BackendErrorCode.BOOT_FAILED, `the KVM machine could not start: ${(cause as Error).message}`, { backend: "kvm", cause });
    }
    this.startedAt = Date.now();
    if (this.currentState === "starting") this.currentState = "running";
  }

  async stop(options: { graceful?: boolean; timeoutMs?: number } = {}): Promise<MachineExit> {
    if (this.exit) return this.exit;
    if (!this.vm) return this.endUnstarted();
    if (options.graceful ?? true) {
      const grace = options.timeoutMs ?? DEFAULT_GRACE_MS;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), grace)));
      const exit = await Promise.race([this.ended, timedOut]);
      clearTimeout(timer);
      if (exit) return exit;
    }
    if (!this.exit) this.currentState = "stopping";
    this.vm.kill();
    return this.ended;
  }

  async kill(): Promise<MachineExit> {
    if (this.exit) return this.exit;
    if (!this.vm) return this.endUnstarted();
    this.currentState = "stopping";
    this.vm.kill();
    return this.ended;
  }

  wait(): Promise<MachineExit> {
    return this.ended;
  }

  async pause(): Promise<void> {
    if (this.currentState !== "running" || !this.vm) {
      throw new BackendError(BackendErrorCode.INVALID_STATE, `pause() on a machine that is ${this.currentState}`, { backend: "kvm" });
    }
    await this.vm.pause();
    if (this.currentState === "running") this.currentState = "paused";
  }

  async resume(): Promise<void> {
    if (this.currentState !== "paused" || !this.vm) {
      throw new BackendError(BackendErrorCode.INVALID_STATE, `resume() on a machine that is ${this.currentState}`, { backend: "kvm" });
    }
    this.vm.resume();
    this.currentState = "running";
  }

  async snapshot(_dir: string): Promise<void> {
    throw new BackendError(BackendErrorCode.UNSUPPORTED, "the KVM backend does not take snapshots yet (features.snapshot is false)", { backend: "kvm" });
  }

  async stats(): Promise<MachineStats> {
    return {
      state: this.currentState,
      vcpus: this.spec.vcpus,
      memoryMiB: this.spec.memoryMiB,
      vmmRssBytes: process.memoryUsage.rss(),
      guestResidentBytes: this.vm && (this.currentState === "running" || this.currentState === "paused") ? await this.vm.guestResidentBytes() : undefined,
      uptimeMs: this.startedAt ? Date.now() - this.startedAt : 0,
    };
  }

  async connect(port: number): Promise<Duplex> {
    if (this.currentState !== "running" && this.currentState !== "paused") {
      throw new BackendError(BackendErrorCode.INVALID_STATE, `connect(${port}) on a machine that is ${this.currentState}`, { backend: "kvm" });
    }
    if (!this.spec.vsock) {
      throw new BackendError(BackendErrorCode.UNAVAILABLE, "the machine has no vsock device (spec.vsock is not set)", { backend: "kvm" });
    }
    return connectHybridVsock(this.spec.vsock.udsPath, port);
  }

  private endUnstarted(): MachineExit {
    const exit: MachineExit = { reason: "killed" };
    this.exit = exit;
    this.currentState = "stopped";
    this.resolveEnded(exit);
    return exit;
  }

  private onExit(native: NativeExit): void {
    const exit = toMachineExit(native);
    this.exit = exit;
    this.currentState = exit.reason === "crashed" ? "crashed" : "stopped";
    this.removeSocketFiles();
    this.resolveEnded(exit);
  }

  /** The VMM made the vsock socket (the spec check proved the path was free); remove it. */
  private removeSocketFiles(): void {
    if (this.spec.vsock) rmSync(this.spec.vsock.udsPath, { force: true });
  }
}
