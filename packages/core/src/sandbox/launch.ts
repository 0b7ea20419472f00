/**
 * Building a sandbox's LaunchPlan: the guest kernel command line of the boot contract
 * (guest/README.md), the disks in contract order (base image = vda, writable layer = vdb), the
 * console log, and the hybrid-vsock socket and the backend's own runtime files in the sandbox's
 * runtime directory (which moat rm removes, whatever happened to the VMM host process).
 */
import type { MachineSpec } from "@moat/backend-api";
import { join } from "node:path";
import type { GuestArtifacts } from "../artifacts/guest-artifacts.js";
import type { LaunchPlan } from "../host/launch-plan.js";
import type { SandboxRecord } from "../state/sandbox-record.js";

export interface LaunchInputs {
  record: SandboxRecord;
  artifacts: GuestArtifacts;
  backend: string;
  sandboxDir: string;
  runtimeDir: string;
  readyTimeoutMs: number;
  now?: Date;
}

export const WRITABLE_DISK = "rw.img";
export const CONSOLE_LOG = "console.log";

export function guestCmdline(record: SandboxRecord, now: Date): string {
  return [
    "console=ttyS0",
    "root=/dev/vda",
    "rootfstype=erofs",
    "ro",
    "init=/sbin/moat-agent",
    "panic=-1",
    "reboot=t",
    "quiet",
    `moat.hostname=${record.name}`,
    `moat.clock=${Math.floor(now.getTime() / 1000)}`,
  ].join(" ");
}

export function buildLaunchPlan(inputs: LaunchInputs): LaunchPlan {
  const { record, artifacts, sandboxDir, runtimeDir } = inputs;
  const spec: MachineSpec = {
    vcpus: record.cpus,
    memoryMiB: record.memoryMiB,
    kernel: { path: artifacts.kernelPath, cmdline: guestCmdline(record, inputs.now ?? new Date()) },
    disks: [
      { path: artifacts.baseImagePath, readOnly: true, cache: "writeback" },
      { path: join(sandboxDir, WRITABLE_DISK), readOnly: false, cache: "writeback" },
    ],
    vsock: { guestCid: 3, udsPath: join(runtimeDir, "vsock.sock") },
    shares: [],
    consoleLogPath: join(sandboxDir, CONSOLE_LOG),
    runtimeDir,
  };
  return { backend: inputs.backend, spec, readyTimeoutMs: inputs.readyTimeoutMs };
}
