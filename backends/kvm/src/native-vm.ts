/**
 * NativeVm: promise-shaped use of one NativeMachine — start, the exit (exactly once), pause,
 * resume, kill, console output — and closing it after the exit. The in-process way to run moat's
 * VMM; the contract's Machine (kvm-machine.ts) and the T1 tests build on it.
 */
import { EventEmitter } from "node:events";
import { loadAddon, type NativeEvent, type NativeMachineConfig, type NativeMachineHandle, type NativeStartInfo } from "./native.js";

export interface NativeExit {
  reason: "poweroff" | "reboot" | "killed" | "crashed";
  status: number;
  detail: string;
}

export class NativeVm extends EventEmitter<{ console: [Buffer] }> {
  readonly config: NativeMachineConfig;
  /** Settles once the machine has ended and its threads are joined. */
  readonly exited: Promise<NativeExit>;
  private readonly handle: NativeMachineHandle;
  private resolveExit!: (exit: NativeExit) => void;
  private started = false;

  constructor(config: NativeMachineConfig) {
    super();
    this.config = config;
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.handle = new (loadAddon().NativeMachine)(config, (event: NativeEvent) => this.onEvent(event));
  }

  /** Builds the VM and starts its vCPUs; rejects (with `code`) when the config cannot boot. */
  async start(): Promise<NativeStartInfo> {
    this.started = true;
    try {
      return await this.handle.start();
    } catch (error) {
      // No machine ran, so no exit event will come: settle `exited` here.
      this.resolveExit({ reason: "crashed", status: 0, detail: `start failed: ${(error as Error).message}` });
      throw error;
    }
  }

  /** Parks every vCPU; resolves once all are parked. */
  pause(): Promise<void> {
    return this.handle.pause();
  }

  resume(): void {
    this.handle.resume();
  }

  /** Guest RAM resident on the host now: what the guest touched (0 once the machine is closed). */
  guestResidentBytes(): Promise<number> {
    return this.handle.guestResidentBytes();
  }

  /** Ends the machine; resolves with its exit (reason "killed" unless it had already ended). */
  kill(): Promise<NativeExit> {
    if (!this.started) {
      this.started = true;
      this.resolveExit({ reason: "killed", status: 0, detail: "" });
    } else {
      this.handle.kill();
    }
    return this.exited;
  }

  private onEvent(event: NativeEvent): void {
    if (event.type === "console") {
      this.emit("console", event.data);
      return;
    }
    const exit: NativeExit = { reason: event.reason, status: event.status, detail: event.detail };
    this.handle.close().then(
      () => this.resolveExit(exit),
      () => this.resolveExit(exit),
    );
  }
}
