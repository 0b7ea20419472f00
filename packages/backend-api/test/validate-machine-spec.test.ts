/** validateMachineSpec(): each bad input yields INVALID_SPEC naming the field, the value and the fix. */
import { describe, expect, test } from "vitest";
import { BackendErrorCode, MachineSpecError, findMachineSpecIssues, isBackendError, validateMachineSpec, type MachineSpec } from "../src/index.js";

const valid = (): MachineSpec => ({
  vcpus: 2,
  memoryMiB: 512,
  kernel: { path: "/var/cache/moat/vmlinux", cmdline: "console=ttyS0", initrd: "/var/cache/moat/initrd.cpio" },
  disks: [{ path: "/var/cache/moat/base.erofs", readOnly: true, cache: "writeback" }],
  vsock: { guestCid: 3, udsPath: "/tmp/moat/sb1/vsock.sock" },
  shares: [{ tag: "workspace", hostPath: "/home/me/project", readOnly: false }],
  consoleLogPath: "/tmp/moat/sb1/console.log",
});

/** Runs validation on a mutated valid spec and returns the thrown error's message. */
function messageFor(mutate: (spec: Record<string, any>) => void): string {
  const spec = valid() as unknown as Record<string, any>;
  mutate(spec);
  try {
    validateMachineSpec(spec);
  } catch (error) {
    expect(isBackendError(error, BackendErrorCode.INVALID_SPEC)).toBe(true);
    expect(error).toBeInstanceOf(MachineSpecError);
    return (error as Error).message;
  }
  throw new Error("validateMachineSpec accepted a bad spec");
}

describe("validateMachineSpec", () => {
  test("accepts a valid spec and returns it", () => {
    const spec = valid();
    expect(validateMachineSpec(spec)).toBe(spec);
    expect(validateMachineSpec({ ...spec, vsock: undefined, consoleLogPath: undefined, disks: [], shares: [] })).toBeTruthy();
  });

  test.each([
    ["negative memory", (s: any) => (s.memoryMiB = -512), /memoryMiB = -512: must be between 1 and 1048576 MiB \(fix: set memoryMiB to an integer/],
    ["zero memory", (s: any) => (s.memoryMiB = 0), /memoryMiB = 0: must be between 1/],
    ["fractional memory", (s: any) => (s.memoryMiB = 1.5), /memoryMiB = 1.5: must be a whole number of MiB/],
    ["memory in bytes", (s: any) => (s.memoryMiB = 512 * 1024 * 1024), /memoryMiB = 536870912: .*the unit is MiB/],
    ["missing kernel path", (s: any) => delete s.kernel.path, /kernel.path = missing: is missing \(fix: set kernel.path to the absolute path of an uncompressed vmlinux .*guest\/kernel\/build.sh/],
    ["missing kernel", (s: any) => delete s.kernel, /kernel = missing: is missing/],
    ["relative kernel path", (s: any) => (s.kernel.path = "vmlinux"), /kernel.path = "vmlinux": must be an absolute path .*fix: use path.resolve\("vmlinux"\)/],
    ["relative initrd", (s: any) => (s.kernel.initrd = "./initrd"), /kernel.initrd = ".\/initrd": must be an absolute path/],
    ["long cmdline", (s: any) => (s.kernel.cmdline = "x".repeat(3000)), /kernel.cmdline = ".*": is 3000 bytes, over the kernel's 2047-byte limit/],
    ["zero vcpus", (s: any) => (s.vcpus = 0), /vcpus = 0: must be between 1 and 255 vCPUs/],
    ["too many vcpus", (s: any) => (s.vcpus = 1000), /vcpus = 1000: must be between 1 and 255/],
    ["vcpus as string", (s: any) => (s.vcpus = "2"), /vcpus = "2": must be a whole number of vCPUs/],
    ["guest CID 2", (s: any) => (s.vsock.guestCid = 2), /vsock.guestCid = 2: must be between 3 and 4294967294 .*reserved/],
    ["socket path too long", (s: any) => (s.vsock.udsPath = `/tmp/${"d".repeat(120)}/v.sock`), /vsock.udsPath = ".*": is 132 bytes; a Unix socket path holds at most 107 \(sun_path\)/],
    ["relative socket path", (s: any) => (s.vsock.udsPath = "v.sock"), /vsock.udsPath = "v.sock": must be an absolute path/],
    ["duplicate share tags", (s: any) => s.shares.push({ tag: "workspace", hostPath: "/srv", readOnly: true }), /shares\[1\].tag = "workspace": duplicates shares\[0\].tag/],
    ["long share tag", (s: any) => (s.shares[0].tag = "t".repeat(37)), /shares\[0\].tag = "t{37}": must be at most 36 bytes/],
    ["relative share path", (s: any) => (s.shares[0].hostPath = "project"), /shares\[0\].hostPath = "project": must be an absolute path/],
    ["bad cache mode", (s: any) => (s.disks[0].cache = "directsync"), /disks\[0\].cache = "directsync": must be one of none, writeback, unsafe/],
    ["readOnly not boolean", (s: any) => (s.disks[0].readOnly = "yes"), /disks\[0\].readOnly = "yes": must be true or false/],
    ["same disk writable twice", (s: any) => s.disks.push({ path: "/d.img", readOnly: false, cache: "none" }, { path: "/d.img", readOnly: false, cache: "none" }), /disks\[2\].path = "\/d.img": is the same file as disks\[1\].path and both are writable/],
    ["NUL in path", (s: any) => (s.consoleLogPath = "/tmp/a\0b"), /consoleLogPath = ".*": contains a NUL byte/],
    ["disks not an array", (s: any) => (s.disks = undefined), /disks = missing: must be an array/],
  ])("rejects %s", (_label, mutate, expected) => {
    expect(messageFor(mutate)).toMatch(expected);
  });

  test("reports every problem at once", () => {
    const issues = findMachineSpecIssues({ vcpus: 0, memoryMiB: -1, kernel: {}, disks: [], shares: [] });
    expect(issues.map((issue) => issue.field)).toEqual(["vcpus", "memoryMiB", "kernel.path", "kernel.cmdline"]);
    for (const issue of issues) expect(issue.fix.length).toBeGreaterThan(5);
  });

  test("rejects non-objects", () => {
    expect(() => validateMachineSpec(null)).toThrow(/spec = null: must be an object/);
  });
});
