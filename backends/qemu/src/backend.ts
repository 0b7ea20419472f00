/**
 * The QEMU fallback backend: `probe()` finds QEMU, checks its version and picks the accelerator
 * (KVM only where it can boot a guest kernel, else TCG); `createMachine()` validates the spec and
 * returns a QemuMachine. Built only against the public @moat/backend-api contract.
 */
import {
  type Backend,
  BackendError,
  BackendErrorCode,
  CONTRACT_VERSION,
  type Machine,
  type MachineSpec,
  type ProbeResult,
  validateMachineSpec,
} from "@moat/backend-api";
import { arch } from "node:os";
import { type AcceleratorChoice, chooseAccelerator, readHostFacts } from "./accelerator.js";
import { QemuMachine } from "./machine.js";
import { MIN_QEMU_VERSION, QEMU_INSTALL_HINT, type QemuBinary, describeQemu, findQemu, isRecentEnough } from "./qemu-binary.js";

export const BACKEND_NAME = "qemu";

interface Ready {
  qemu: QemuBinary;
  accel: AcceleratorChoice;
}

export class QemuBackend implements Backend {
  readonly name = BACKEND_NAME;
  readonly contractVersion = CONTRACT_VERSION;
  private ready: Promise<Ready> | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async probe(): Promise<ProbeResult> {
    const base = {
      hostArch: arch() === "arm64" ? ("arm64" as const) : ("x64" as const),
      guestArchs: ["x86_64" as const],
    };
    try {
      const { qemu, accel } = await this.prepare();
      return {
        ...base,
        available: true,
        reason: accel.why,
        features: { snapshot: false, pause: true, shares: false, hardwareAccelerated: accel.accelerator === "kvm" },
        details: { qemu: qemu.version, binary: qemu.path, accelerator: accel.accelerator },
      };
    } catch (err) {
      const e = err as BackendError;
      return {
        ...base,
        available: false,
        reason: e.message,
        ...(e.fix ? { fix: e.fix } : {}),
        features: { snapshot: false, pause: true, shares: false, hardwareAccelerated: false },
      };
    }
  }

  async createMachine(spec: MachineSpec): Promise<Machine> {
    const valid = validateMachineSpec(spec);
    if (arch() !== "x64") {
      throw new BackendError(BackendErrorCode.UNAVAILABLE, `the QEMU backend runs x86_64 guests on x86_64 hosts only (this host: ${arch()})`, { backend: BACKEND_NAME });
    }
    const { qemu, accel } = await this.prepare();
    return new QemuMachine(valid, qemu, accel);
  }

  /** Finds QEMU and chooses the accelerator once per backend instance. */
  private prepare(): Promise<Ready> {
    this.ready ??= this.discover();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  private async discover(): Promise<Ready> {
    const path = await findQemu(this.env);
    if (!path) {
      const where = this.env.MOAT_QEMU ? `MOAT_QEMU=${this.env.MOAT_QEMU} is not an executable file` : "qemu-system-x86_64 is not on PATH";
      throw new BackendError(BackendErrorCode.UNAVAILABLE, where, { backend: BACKEND_NAME, fix: QEMU_INSTALL_HINT });
    }
    let qemu: QemuBinary;
    try {
      qemu = await describeQemu(path);
    } catch (cause) {
      throw new BackendError(BackendErrorCode.UNAVAILABLE, `could not run ${path} -version`, { backend: BACKEND_NAME, cause, fix: QEMU_INSTALL_HINT });
    }
    if (!isRecentEnough(qemu)) {
      throw new BackendError(
        BackendErrorCode.UNAVAILABLE,
        `QEMU ${qemu.version} at ${path} is too old: moat needs ${MIN_QEMU_VERSION.join(".")} or newer`,
        { backend: BACKEND_NAME, fix: QEMU_INSTALL_HINT },
      );
    }
    const accel = chooseAccelerator(await readHostFacts(), this.env.MOAT_QEMU_ACCEL);
    return { qemu, accel };
  }
}
