/**
 * Specs the kit feeds to createMachine(): a well-formed one (the backend's own bootable spec when
 * given, else a synthetic one whose files need not exist) and invalid variants of it, each of which
 * must be refused with INVALID_SPEC before any file is touched.
 */
import { join } from "node:path";
import type { MachineSpec } from "../contract.js";

/** Well-formed, but its kernel does not exist: enough to test validation and refusals. */
export function syntheticSpec(workDir: string): MachineSpec {
  return {
    vcpus: 1,
    memoryMiB: 128,
    kernel: { path: join(workDir, "no-such-vmlinux"), cmdline: "console=ttyS0" },
    disks: [],
    vsock: { guestCid: 3, udsPath: join(workDir, "v.sock") },
    shares: [],
  };
}

export interface InvalidVariant {
  label: string;
  /** The field the error message must name. */
  field: string;
  make: (base: MachineSpec) => unknown;
}

const clone = (spec: MachineSpec): MachineSpec => structuredClone(spec);

export const INVALID_VARIANTS: readonly InvalidVariant[] = [
  { label: "negative memory", field: "memoryMiB", make: (b) => ({ ...clone(b), memoryMiB: -128 }) },
  { label: "zero vCPUs", field: "vcpus", make: (b) => ({ ...clone(b), vcpus: 0 }) },
  { label: "missing kernel path", field: "kernel.path", make: (b) => ({ ...clone(b), kernel: { cmdline: b.kernel.cmdline } }) },
  { label: "relative kernel path", field: "kernel.path", make: (b) => ({ ...clone(b), kernel: { ...b.kernel, path: "vmlinux" } }) },
  { label: "relative disk path", field: "disks[0].path", make: (b) => ({ ...clone(b), disks: [{ path: "disk.img", readOnly: true, cache: "none" }] }) },
  { label: "guest CID 2", field: "vsock.guestCid", make: (b) => ({ ...clone(b), vsock: { guestCid: 2, udsPath: "/tmp/moat-conformance.sock" } }) },
  { label: "socket path over 107 bytes", field: "vsock.udsPath", make: (b) => ({ ...clone(b), vsock: { guestCid: 3, udsPath: `/tmp/${"x".repeat(110)}.sock` } }) },
  {
    label: "duplicate share tags",
    field: "shares[1].tag",
    make: (b) => ({ ...clone(b), shares: [{ tag: "w", hostPath: "/tmp", readOnly: true }, { tag: "w", hostPath: "/srv", readOnly: true }] }),
  },
  { label: "not an object", field: "spec", make: () => "vmlinux" },
];
