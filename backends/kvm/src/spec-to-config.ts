/**
 * MachineSpec → native config, after the checks only the host can make: files exist and are
 * readable, memory fits in this host's RAM, the vsock socket path is free and short enough.
 * Every failure is a BackendError (INVALID_SPEC) naming the path or value and the limit.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { totalmem } from "node:os";
import { BackendError, BackendErrorCode, MACHINE_LIMITS, type MachineSpec } from "@moat/backend-api";
import type { NativeMachineConfig } from "./native.js";

const MiB = 1024 * 1024;

function invalid(message: string, fix: string): BackendError {
  return new BackendError(BackendErrorCode.INVALID_SPEC, message, { backend: "kvm", fix });
}

function checkReadableFile(field: string, path: string, writable = false): void {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw invalid(`${field} ${path} does not exist`, `check the path, or build the file first`);
  }
  if (!stat.isFile() && !stat.isBlockDevice()) throw invalid(`${field} ${path} is not a regular file`, "point it at a file");
  try {
    accessSync(path, writable ? constants.R_OK | constants.W_OK : constants.R_OK);
  } catch {
    throw invalid(`${field} ${path} is not ${writable ? "readable and writable" : "readable"} by this process`, `fix its permissions (chmod/chown)`);
  }
}

/** Host-side checks shared by kernel and test-payload machines. */
export function checkHostResources(spec: MachineSpec): void {
  const host = totalmem();
  if (spec.memoryMiB * MiB > host) {
    throw invalid(
      `memoryMiB ${spec.memoryMiB} is larger than this host's ${Math.floor(host / MiB)} MiB of RAM`,
      `ask for at most ${Math.floor(host / MiB)} MiB`,
    );
  }
  spec.disks.forEach((disk, i) => checkReadableFile(`disks[${i}].path`, disk.path, !disk.readOnly));
  if (spec.vsock) {
    const bytes = Buffer.byteLength(spec.vsock.udsPath);
    if (bytes > MACHINE_LIMITS.maxSocketPathBytes) {
      throw invalid(
        `vsock.udsPath ${spec.vsock.udsPath} is ${bytes} bytes; a Unix socket path is at most ${MACHINE_LIMITS.maxSocketPathBytes}`,
        "use a shorter directory (e.g. under /tmp or $XDG_RUNTIME_DIR)",
      );
    }
    if (existsSync(spec.vsock.udsPath)) {
      throw invalid(`vsock.udsPath ${spec.vsock.udsPath} already exists`, "remove the stale socket, or pick another path (is another machine using it?)");
    }
  }
  if (spec.shares.length > 0) {
    throw new BackendError(BackendErrorCode.UNSUPPORTED, `the KVM backend does not serve virtio-fs shares yet (${spec.shares.length} given)`, {
      backend: "kvm",
      fix: "pass files with the files RPC, or leave shares empty",
    });
  }
}

export function specToNativeConfig(spec: MachineSpec): NativeMachineConfig {
  checkReadableFile("kernel.path", spec.kernel.path);
  if (spec.kernel.initrd) checkReadableFile("kernel.initrd", spec.kernel.initrd);
  checkHostResources(spec);
  return {
    vcpus: spec.vcpus,
    memoryBytes: spec.memoryMiB * MiB,
    kernel: { path: spec.kernel.path, cmdline: spec.kernel.cmdline, ...(spec.kernel.initrd ? { initrd: spec.kernel.initrd } : {}) },
    disks: spec.disks.map((d) => ({ path: d.path, readOnly: d.readOnly })),
    ...(spec.vsock ? { vsock: { guestCid: spec.vsock.guestCid, udsPath: spec.vsock.udsPath } } : {}),
    rng: true,
    ...(spec.consoleLogPath ? { consolePath: spec.consoleLogPath } : {}),
  };
}
