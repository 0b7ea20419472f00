/**
 * A backend package that ships before its VMM port exists (today: hvf, whp): it installs, loads and
 * is listed by `moat doctor`, and is honest about it — probe() reports "not built" with a fix, and
 * createMachine() validates the spec (as the contract requires) and refuses with UNAVAILABLE.
 */
import { CONTRACT_VERSION, type Backend, type Machine, type MachineSpec, type ProbeResult } from "./contract.js";
import { BackendError, BackendErrorCode } from "./errors/backend-error.js";
import { validateMachineSpec } from "./spec/validate-machine-spec.js";

export interface UnimplementedBackendInfo {
  /** The backend's short name, e.g. "hvf". */
  name: string;
  /** The hypervisor it is for, e.g. "Apple Hypervisor.framework". */
  hypervisor: string;
}

const UNIMPLEMENTED_FIX = "use another backend for now (moat doctor lists them); progress is tracked in docs/ARCHITECTURE.md";

/** The reason such a backend's probe() gives. */
export function notBuiltReason(name: string): string {
  return `not built: the ${name.toUpperCase()} backend is not implemented yet`;
}

export function createUnimplementedBackend(info: UnimplementedBackendInfo): Backend {
  const reason = notBuiltReason(info.name);
  return {
    name: info.name,
    contractVersion: CONTRACT_VERSION,
    async probe(): Promise<ProbeResult> {
      const hostArch = process.arch === "arm64" ? "arm64" : "x64";
      return {
        available: false,
        reason,
        fix: UNIMPLEMENTED_FIX,
        hostArch,
        guestArchs: [hostArch === "arm64" ? "aarch64" : "x86_64"],
        features: { snapshot: false, pause: false, shares: false, hardwareAccelerated: true },
        details: { hypervisor: info.hypervisor, implemented: "no" },
      };
    },
    async createMachine(spec: MachineSpec): Promise<Machine> {
      validateMachineSpec(spec);
      throw new BackendError(BackendErrorCode.UNAVAILABLE, `${info.name} backend: ${reason}`, { backend: info.name, fix: UNIMPLEMENTED_FIX });
    },
  };
}
