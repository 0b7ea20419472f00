/**
 * Boundary validation of a MachineSpec: every backend calls `validateMachineSpec()` first thing in
 * `createMachine()`, so no bad value ever reaches a VMM. Pure (no file-system access); it collects
 * every problem and throws one MachineSpecError (code INVALID_SPEC) naming each field, value and fix.
 */
import { isAbsolute } from "node:path";
import type { MachineSpec } from "../contract.js";
import { MachineSpecError, type SpecIssue } from "./issues.js";
import { DISK_CACHE_MODES, MACHINE_LIMITS as L } from "./limits.js";

type Fields = Record<string, unknown>;

const isRecord = (value: unknown): value is Fields => typeof value === "object" && value !== null && !Array.isArray(value);
const byteLength = (text: string) => Buffer.byteLength(text, "utf8");

class IssueCollector {
  readonly issues: SpecIssue[] = [];

  add(field: string, value: unknown, problem: string, fix: string): void {
    this.issues.push({ field, value, problem, fix });
  }

  integer(field: string, value: unknown, min: number, max: number, unit: string, hint: string): void {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.add(field, value, `must be a whole number of ${unit}`, `set ${field} to an integer between ${min} and ${max}${hint}`);
    } else if (value < min || value > max) {
      this.add(field, value, `must be between ${min} and ${max} ${unit}`, `set ${field} to an integer between ${min} and ${max}${hint}`);
    }
  }

  boolean(field: string, value: unknown): void {
    if (typeof value !== "boolean") this.add(field, value, "must be true or false", `set ${field} to true or false`);
  }

  /** An absolute host path without NUL bytes; `what` says what the file is, for the fix. */
  path(field: string, value: unknown, what: string): value is string {
    if (value === undefined || value === null || value === "") {
      this.add(field, value, "is missing", `set ${field} to the absolute path of ${what}`);
      return false;
    }
    if (typeof value !== "string") {
      this.add(field, value, "must be a string path", `set ${field} to the absolute path of ${what}`);
      return false;
    }
    if (value.includes("\0")) {
      this.add(field, value, "contains a NUL byte", `remove the NUL byte from ${field}`);
      return false;
    }
    if (!isAbsolute(value)) {
      this.add(field, value, "must be an absolute path (backends may run in another working directory)", `use path.resolve(${JSON.stringify(value)})`);
      return false;
    }
    return true;
  }

  /** Optional field: absent (undefined) is fine, anything else must be a valid path. */
  optionalPath(field: string, value: unknown, what: string): void {
    if (value !== undefined) this.path(field, value, what);
  }
}

function checkKernel(c: IssueCollector, kernel: unknown): void {
  if (!isRecord(kernel)) {
    c.add("kernel", kernel, "is missing", "set kernel to { path, cmdline } (the guest kernel: build one with guest/kernel/build.sh)");
    return;
  }
  c.path("kernel.path", kernel.path, "an uncompressed vmlinux (PVH) or a bzImage (build one with guest/kernel/build.sh)");
  const cmdline = kernel.cmdline;
  if (typeof cmdline !== "string") {
    c.add("kernel.cmdline", cmdline, "must be a string", 'set kernel.cmdline to the kernel command line, e.g. "console=ttyS0 quiet" (may be "")');
  } else if (cmdline.includes("\0")) {
    c.add("kernel.cmdline", cmdline, "contains a NUL byte", "remove the NUL byte from kernel.cmdline");
  } else if (byteLength(cmdline) > L.maxCmdlineBytes) {
    c.add("kernel.cmdline", cmdline, `is ${byteLength(cmdline)} bytes, over the kernel's ${L.maxCmdlineBytes}-byte limit`, "shorten kernel.cmdline");
  }
  c.optionalPath("kernel.initrd", kernel.initrd, "an initrd (cpio archive), or leave it out");
}

function checkDisks(c: IssueCollector, disks: unknown): void {
  if (!Array.isArray(disks)) {
    c.add("disks", disks, "must be an array", "set disks to [] or a list of { path, readOnly, cache }");
    return;
  }
  const writers = new Map<string, number>();
  disks.forEach((disk: unknown, i) => {
    const at = `disks[${i}]`;
    if (!isRecord(disk)) {
      c.add(at, disk, "must be an object", `set ${at} to { path, readOnly, cache }`);
      return;
    }
    const ok = c.path(`${at}.path`, disk.path, "a raw disk image file");
    c.boolean(`${at}.readOnly`, disk.readOnly);
    if (!DISK_CACHE_MODES.includes(disk.cache as (typeof DISK_CACHE_MODES)[number])) {
      c.add(`${at}.cache`, disk.cache, `must be one of ${DISK_CACHE_MODES.join(", ")}`, `set ${at}.cache to "writeback" unless you know you need another mode`);
    }
    if (ok && disk.readOnly === false) {
      const first = writers.get(disk.path as string);
      if (first !== undefined) {
        c.add(`${at}.path`, disk.path, `is the same file as disks[${first}].path and both are writable (the guest would corrupt it)`, "attach the file once, or make every copy readOnly");
      } else {
        writers.set(disk.path as string, i);
      }
    }
  });
}

function checkVsock(c: IssueCollector, vsock: unknown): void {
  if (vsock === undefined) return;
  if (!isRecord(vsock)) {
    c.add("vsock", vsock, "must be an object", "set vsock to { guestCid, udsPath } or leave it out");
    return;
  }
  c.integer("vsock.guestCid", vsock.guestCid, L.minGuestCid, L.maxGuestCid, "", " (0-2 are reserved: hypervisor, local, host)");
  if (c.path("vsock.udsPath", vsock.udsPath, "the host Unix socket to create (e.g. in the sandbox's state directory)")) {
    const bytes = byteLength(vsock.udsPath as string);
    if (bytes > L.maxSocketPathBytes) {
      c.add("vsock.udsPath", vsock.udsPath, `is ${bytes} bytes; a Unix socket path holds at most ${L.maxSocketPathBytes} (sun_path)`, "use a shorter directory, e.g. under /tmp or $XDG_RUNTIME_DIR");
    }
  }
}

function checkShares(c: IssueCollector, shares: unknown): void {
  if (!Array.isArray(shares)) {
    c.add("shares", shares, "must be an array", "set shares to [] or a list of { tag, hostPath, readOnly }");
    return;
  }
  const tags = new Map<string, number>();
  shares.forEach((share: unknown, i) => {
    const at = `shares[${i}]`;
    if (!isRecord(share)) {
      c.add(at, share, "must be an object", `set ${at} to { tag, hostPath, readOnly }`);
      return;
    }
    const tag = share.tag;
    if (typeof tag !== "string" || tag === "") {
      c.add(`${at}.tag`, tag, "must be a non-empty string", `set ${at}.tag to the name the guest mounts, e.g. "workspace"`);
    } else if (byteLength(tag) > L.maxShareTagBytes || tag.includes("\0")) {
      c.add(`${at}.tag`, tag, `must be at most ${L.maxShareTagBytes} bytes without NUL (virtio-fs tag)`, `shorten ${at}.tag`);
    } else if (tags.has(tag)) {
      c.add(`${at}.tag`, tag, `duplicates shares[${tags.get(tag)}].tag (the guest could not tell them apart)`, "give every share its own tag");
    } else {
      tags.set(tag, i);
    }
    c.path(`${at}.hostPath`, share.hostPath, "the host directory to share");
    c.boolean(`${at}.readOnly`, share.readOnly);
  });
}

/** Every problem in `spec`, or [] when it is valid. Use `validateMachineSpec()` to throw instead. */
export function findMachineSpecIssues(spec: unknown): SpecIssue[] {
  const c = new IssueCollector();
  if (!isRecord(spec)) {
    c.add("spec", spec, "must be an object", "pass a MachineSpec: { vcpus, memoryMiB, kernel, disks, shares, vsock?, consoleLogPath?, runtimeDir? }");
    return c.issues;
  }
  c.integer("vcpus", spec.vcpus, L.minVcpus, L.maxVcpus, "vCPUs", "");
  c.integer("memoryMiB", spec.memoryMiB, L.minMemoryMiB, L.maxMemoryMiB, "MiB", " (the unit is MiB, e.g. 512)");
  checkKernel(c, spec.kernel);
  checkDisks(c, spec.disks);
  checkVsock(c, spec.vsock);
  checkShares(c, spec.shares);
  c.optionalPath("consoleLogPath", spec.consoleLogPath, "the file the serial console is appended to, or leave it out");
  c.optionalPath("runtimeDir", spec.runtimeDir, "an existing directory for the backend's sockets, or leave it out");
  return c.issues;
}

/**
 * Returns `spec` typed as a MachineSpec when it is valid; otherwise throws a MachineSpecError
 * (a BackendError with code INVALID_SPEC) whose message lists every bad field, its value and the fix.
 */
export function validateMachineSpec(spec: unknown): MachineSpec {
  const issues = findMachineSpecIssues(spec);
  if (issues.length > 0) throw new MachineSpecError(issues);
  return spec as MachineSpec;
}
