/**
 * @moat/backend-whp: moat's backend on Windows Hypervisor Platform. The VMM port (backends/vmm behind an
 * WHP implementation of the hypervisor interface) is not written yet, so this package is honest
 * about it: probe() reports "not built" and createMachine() refuses with a typed UNAVAILABLE error
 * (after validating the spec, as the contract requires).
 */
import {
  BackendError,
  BackendErrorCode,
  CONTRACT_VERSION,
  validateMachineSpec,
  type Backend,
  type Machine,
  type MachineSpec,
  type ProbeResult,
} from "@moat/backend-api";

export const BACKEND_NAME = "whp";
export const NOT_BUILT_REASON = "not built: the WHP backend is not implemented yet";
const FIX = "use another backend for now (moat doctor lists them); progress is tracked in docs/ARCHITECTURE.md";

export function createBackend(): Backend {
  return {
    name: BACKEND_NAME,
    contractVersion: CONTRACT_VERSION,
    async probe(): Promise<ProbeResult> {
      const hostArch = process.arch === "arm64" ? "arm64" : "x64";
      return {
        available: false,
        reason: NOT_BUILT_REASON,
        fix: FIX,
        hostArch,
        guestArchs: [hostArch === "arm64" ? "aarch64" : "x86_64"],
        features: { snapshot: false, pause: false, shares: false, hardwareAccelerated: true },
        details: { hypervisor: "Windows Hypervisor Platform", implemented: "no" },
      };
    },
    async createMachine(spec: MachineSpec): Promise<Machine> {
      validateMachineSpec(spec);
      throw new BackendError(BackendErrorCode.UNAVAILABLE, `whp backend: ${NOT_BUILT_REASON}`, { backend: BACKEND_NAME, fix: FIX });
    },
  };
}
