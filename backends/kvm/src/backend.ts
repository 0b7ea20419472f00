/**
 * createBackend(): the KVM backend per the @moat/backend-api contract. Validates every spec at
 * the boundary, refuses to run where probe() says unavailable (with the reason and the fix), and
 * maps the spec to the native config.
 *
 * T1 mode (`testPayload`): machines run the given CPL3 flat binary instead of spec.kernel (the
 * device-test tier), and probe() reports available wherever KVM runs CPL3 code, so the
 * conformance kit's lifecycle checks run on hosts that cannot boot a kernel (our nested PVM CI).
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
import { KvmMachine } from "./kvm-machine.js";
import { probeKvm } from "./probe.js";
import { checkHostResources, specToNativeConfig } from "./spec-to-config.js";

export interface KvmBackendOptions {
  /** T1 mode: run this flat binary (backends/vmm/test/guest) at CPL3 instead of the spec's kernel. */
  testPayload?: { path: string; args?: string };
}

async function probeFor(options: KvmBackendOptions): Promise<ProbeResult> {
  const result = await probeKvm();
  if (!options.testPayload || result.details?.cpl3 !== "yes") return result;
  return { ...result, available: true, reason: "T1 test-payload mode: CPL3 programs only", fix: undefined };
}

export function createBackend(options: KvmBackendOptions = {}): Backend {
  return {
    name: "kvm",
    contractVersion: CONTRACT_VERSION,
    probe: () => probeFor(options),
    async createMachine(input: MachineSpec): Promise<Machine> {
      const spec = validateMachineSpec(input);
      const probe = await probeFor(options);
      if (!probe.available) {
        throw new BackendError(BackendErrorCode.UNAVAILABLE, `the KVM backend cannot run guests here: ${probe.reason}`, {
          backend: "kvm",
          ...(probe.fix ? { fix: probe.fix } : {}),
        });
      }
      if (options.testPayload) {
        checkHostResources(spec);
        return new KvmMachine(spec, {
          vcpus: spec.vcpus,
          memoryBytes: spec.memoryMiB * 1024 * 1024,
          testPayload: { path: options.testPayload.path, args: options.testPayload.args ?? "" },
          disks: spec.disks.map((d) => ({ path: d.path, readOnly: d.readOnly })),
          ...(spec.vsock ? { vsock: spec.vsock } : {}),
          ...(spec.consoleLogPath ? { consolePath: spec.consoleLogPath } : {}),
        });
      }
      return new KvmMachine(spec, specToNativeConfig(spec));
    },
  };
}
