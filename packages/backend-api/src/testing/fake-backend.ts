/**
 * An in-memory fake backend for tests of code that drives backends (selection, doctor, the
 * conformance kit itself). No VM runs: machines only walk the contract's state machine, and guest
 * ports are served by callbacks you pass in. It honours the whole contract, so it passes the kit.
 */
import type { Duplex } from "node:stream";
import {
  CONTRACT_VERSION,
  type Backend,
  type BackendFeatures,
  type Machine,
  type MachineExit,
  type MachineSpec,
  type MachineState,
  type MachineStats,
  type ProbeResult,
} from "../contract.js";
import { BackendError, BackendErrorCode } from "../errors/backend-error.js";
import { validateMachineSpec } from "../spec/validate-machine-spec.js";
import { createDuplexPair } from "../streams/duplex-pair.js";

export interface FakeBackendOptions {
  name?: string;
  contractVersion?: string;
  /** Default true. When false, probe() says why and createMachine() throws UNAVAILABLE. */
  available?: boolean;
  reason?: string;
  features?: Partial<BackendFeatures>;
  /** Guest ports that "listen": connect(port) hands the guest end of a stream pair to the callback. */
  guestPorts?: Record<number, (guestEnd: Duplex) => void>;
  /** Whether the fake guest powers off when asked (stop({graceful})); default true. */
  honoursPoweroff?: boolean;
}


class FakeMachine implements Machine {
  #state: MachineState = "created";
  #startedAt = 0;
  #exit: MachineExit | undefined;
  #settle!: (exit: MachineExit) => void;
  readonly #ended = new Promise<MachineExit>((resolve) => (this.#settle = resolve));

  constructor(
    readonly spec: MachineSpec,
    private readonly options: FakeBackendOptions,
    private readonly features: BackendFeatures,
  ) {}

  get state(): MachineState {
    return this.#state;
  }

  get vsockPath(): string | undefined {
    return this.spec.vsock?.udsPath;
  }

  async start(): Promise<void> {
    if (this.#state !== "created") throw this.#wrongState("start", "a machine boots once; create a new one");
    this.#state = "starting";
    await new Promise((resolve) => setImmediate(resolve));
    this.#startedAt = Date.now();
    this.#state = "running";
  }

  async stop(options: { graceful?: boolean; timeoutMs?: number } = {}): Promise<MachineExit> {
    if (this.#exit) return this.#exit;
    if (this.#state === "created") return this.#end({ reason: "killed", detail: "stopped before start" });
    this.#state = "stopping";
    const poweroff = (options.graceful ?? true) && (this.options.honoursPoweroff ?? true);
    return this.#end(poweroff ? { reason: "poweroff" } : { reason: "killed" });
  }

  async kill(): Promise<MachineExit> {
    return this.#exit ?? this.#end({ reason: "killed" });
  }

  wait(): Promise<MachineExit> {
    return this.#ended;
  }

  async pause(): Promise<void> {
    if (!this.features.pause) throw this.#unsupported("pause");
    if (this.#state !== "running") throw this.#wrongState("pause", "start the machine first");
    this.#state = "paused";
  }

  async resume(): Promise<void> {
    if (!this.features.pause) throw this.#unsupported("resume");
    if (this.#state !== "paused") throw this.#wrongState("resume", "pause the machine first");
    this.#state = "running";
  }

  async snapshot(_dir: string): Promise<void> {
    throw this.#unsupported("snapshot");
  }

  async stats(): Promise<MachineStats> {
    return {
      state: this.#state,
      vcpus: this.spec.vcpus,
      memoryMiB: this.spec.memoryMiB,
      uptimeMs: this.#startedAt === 0 ? 0 : Date.now() - this.#startedAt,
    };
  }

  async connect(port: number): Promise<Duplex> {
    if (this.#state !== "running") throw this.#wrongState(`connect(${port})`, "start the machine and wait for the guest");
    const serve = this.options.guestPorts?.[port];
    if (!serve) throw new BackendError(BackendErrorCode.UNAVAILABLE, `no guest service listens on port ${port}`, { backend: this.options.name ?? "fake" });
    const [hostEnd, guestEnd] = createDuplexPair();
    serve(guestEnd);
    return hostEnd;
  }

  #end(exit: MachineExit): MachineExit {
    this.#exit = exit;
    this.#state = "stopped";
    this.#settle(exit);
    return exit;
  }

  #wrongState(operation: string, fix: string): BackendError {
    return new BackendError(BackendErrorCode.INVALID_STATE, `${operation}: machine is ${this.#state}`, { fix, backend: this.options.name ?? "fake" });
  }

  #unsupported(operation: string): BackendError {
    return new BackendError(BackendErrorCode.UNSUPPORTED, `${operation} is not supported by the fake backend`, { backend: this.options.name ?? "fake" });
  }
}

/** A fake backend (see module comment); every call gets fresh state. */
export function createFakeBackend(options: FakeBackendOptions = {}): Backend {
  const name = options.name ?? "fake";
  const available = options.available ?? true;
  const features: BackendFeatures = { snapshot: false, pause: true, shares: true, hardwareAccelerated: false, ...options.features };
  return {
    name,
    contractVersion: options.contractVersion ?? CONTRACT_VERSION,
    async probe(): Promise<ProbeResult> {
      const result: ProbeResult = {
        available,
        hostArch: process.arch === "arm64" ? "arm64" : "x64",
        guestArchs: ["x86_64"],
        features,
        details: { kind: "in-memory fake, no VM" },
      };
      if (!available) {
        result.reason = options.reason ?? "the fake backend was created with available: false";
        result.fix = "create it with available: true";
      }
      return result;
    },
    async createMachine(spec: MachineSpec): Promise<Machine> {
      validateMachineSpec(spec);
      if (!available) throw new BackendError(BackendErrorCode.UNAVAILABLE, options.reason ?? "the fake backend is unavailable", { backend: name });
      return new FakeMachine(spec, { ...options, name }, features);
    },
  };
}
