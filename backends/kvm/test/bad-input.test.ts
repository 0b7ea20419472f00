/**
 * Bad input gets a clear error naming the path or value and the limit: missing/unreadable kernel or
 * disk, a kernel that is neither ELF nor bzImage, an ELF without a PVH note, memory beyond the
 * host's RAM, a vsock socket path that exists or is too long, shares (not served yet).
 * Spec-level checks run everywhere; native checks (the VMM itself refusing) need /dev/kvm.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { isBackendError, type MachineSpec } from "@moat/backend-api";
import { afterAll, describe, expect, test } from "vitest";
import { NativeVm } from "../src/index.js";
import { specToNativeConfig } from "../src/spec-to-config.js";
import { skipReason, tempDir } from "./helpers/kvm.js";

const dir = tempDir();
afterAll(() => dir.cleanup());
const MiB = 1024 * 1024;
const kernel = join(dir.path, "vmlinux");
writeFileSync(kernel, "not a kernel at all, just text that is long enough to look at".repeat(20));

const spec = (over: Partial<MachineSpec> = {}): MachineSpec => ({
  vcpus: 1,
  memoryMiB: 64,
  kernel: { path: kernel, cmdline: "console=ttyS0" },
  disks: [],
  shares: [],
  ...over,
});

function refusal(fn: () => unknown): Error & { code?: string; fix?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a refusal");
}

describe("spec checks on the host (no KVM needed)", () => {
  const runningAsRoot = process.getuid?.() === 0;

  test("a missing kernel names the path", () => {
    const e = refusal(() => specToNativeConfig(spec({ kernel: { path: "/nonexistent/vmlinux", cmdline: "" } })));
    expect(isBackendError(e, "INVALID_SPEC")).toBe(true);
    expect(e.message).toContain("/nonexistent/vmlinux");
    expect(e.message).toContain("does not exist");
  });

  test.skipIf(runningAsRoot)("an unreadable kernel names the path", () => {
    const path = join(dir.path, "unreadable");
    writeFileSync(path, "x");
    chmodSync(path, 0o000);
    const e = refusal(() => specToNativeConfig(spec({ kernel: { path, cmdline: "" } })));
    expect(e.message).toContain(path);
    expect(e.message).toContain("not readable");
  });

  test("a missing disk names the field and the path", () => {
    const e = refusal(() => specToNativeConfig(spec({ disks: [{ path: "/nonexistent/disk.img", readOnly: true, cache: "none" }] })));
    expect(e.message).toBe("disks[0].path /nonexistent/disk.img does not exist");
  });

  test("memory beyond the host's RAM names both sizes", () => {
    const hostMiB = Math.floor(totalmem() / MiB);
    const e = refusal(() => specToNativeConfig(spec({ memoryMiB: hostMiB + 1024 })));
    expect(isBackendError(e, "INVALID_SPEC")).toBe(true);
    expect(e.message).toContain(`memoryMiB ${hostMiB + 1024}`);
    expect(e.message).toContain(`${hostMiB} MiB`);
  });

  test("a vsock socket path that exists is refused, naming it", () => {
    const udsPath = join(dir.path, "exists.sock");
    writeFileSync(udsPath, "");
    const e = refusal(() => specToNativeConfig(spec({ vsock: { guestCid: 3, udsPath } })));
    expect(e.message).toBe(`vsock.udsPath ${udsPath} already exists`);
    expect(e.fix).toMatch(/remove the stale socket/);
  });

  test("a vsock socket path over 107 bytes is refused with the limit", () => {
    const udsPath = `/tmp/${"s".repeat(120)}.sock`;
    const e = refusal(() => specToNativeConfig(spec({ vsock: { guestCid: 3, udsPath } })));
    expect(e.message).toContain(udsPath);
    expect(e.message).toContain("at most 107");
  });

  test("shares are refused as unsupported", () => {
    const e = refusal(() => specToNativeConfig(spec({ shares: [{ tag: "w", hostPath: dir.path, readOnly: true }] })));
    expect(isBackendError(e, "UNSUPPORTED")).toBe(true);
  });
});

describe.skipIf(skipReason)("the VMM itself refuses bad machines (real KVM)", () => {
  async function startError(config: ConstructorParameters<typeof NativeVm>[0]): Promise<Error & { code?: string }> {
    const vm = new NativeVm(config);
    const error = await vm.start().then(
      () => undefined,
      (e: Error) => e,
    );
    if (!error) {
      await vm.kill();
      throw new Error("expected start() to fail");
    }
    expect((await vm.exited).reason).toBe("crashed");
    return error;
  }

  test("a kernel that is neither ELF nor bzImage", async () => {
    const e = await startError({ vcpus: 1, memoryBytes: 64 * MiB, kernel: { path: kernel, cmdline: "" } });
    expect(e.code).toBe("MACHINE_CONFIG");
    expect(e.message).toContain(kernel);
    expect(e.message).toMatch(/neither an ELF vmlinux nor a bzImage/);
  });

  test("an ELF file without a PVH note", async () => {
    // /proc/self/exe is an ELF64 x86_64 executable (node) with no Xen PVH note.
    const e = await startError({ vcpus: 1, memoryBytes: 512 * MiB, kernel: { path: process.execPath, cmdline: "" } });
    expect(e.message).toMatch(/PVH entry note/);
    expect(e.message).toContain(process.execPath);
  });

  test("a missing kernel file", async () => {
    const e = await startError({ vcpus: 1, memoryBytes: 64 * MiB, kernel: { path: "/nonexistent/bzImage", cmdline: "" } });
    expect(e.message).toContain("/nonexistent/bzImage");
  });

  test("a kernel larger than guest memory is refused before it is read", async () => {
    // node's executable is ~100 MB; the machine has 16 MiB.
    const e = await startError({ vcpus: 1, memoryBytes: 16 * MiB, kernel: { path: process.execPath, cmdline: "" } });
    expect(e.message).toContain(process.execPath);
    expect(e.message).toMatch(/is \d+ MiB, larger than the guest memory \(16 MiB\)/);
  });

  test("an initrd that is a directory", async () => {
    const e = await startError({ vcpus: 1, memoryBytes: 64 * MiB, kernel: { path: kernel, cmdline: "", initrd: dir.path } });
    expect(e.message).toContain(`initrd ${dir.path}: is not a regular file`);
  });

  test("memory larger than the host", async () => {
    const bytes = totalmem() + 1024 * MiB;
    const e = await startError({ vcpus: 1, memoryBytes: bytes, kernel: { path: kernel, cmdline: "" } });
    expect(e.message).toMatch(/larger than this host's \d+ MiB/);
  });

  test("a vsock socket path that already exists", async () => {
    const udsPath = join(dir.path, "native-exists.sock");
    writeFileSync(udsPath, "");
    const e = await startError({ vcpus: 1, memoryBytes: 64 * MiB, kernel: { path: kernel, cmdline: "" }, vsock: { guestCid: 3, udsPath } });
    expect(e.message).toContain(udsPath);
  });

  test("a missing disk file", async () => {
    const e = await startError({ vcpus: 1, memoryBytes: 64 * MiB, kernel: { path: kernel, cmdline: "" }, disks: [{ path: "/nonexistent/d.img" }] });
    expect(e.message).toContain("/nonexistent/d.img");
  });

  test("a command line over the kernel's limit (with the device fragments added)", async () => {
    // A minimal bzImage header (boot protocol 2.15, 64-bit entry, 2047-byte command line).
    const image = Buffer.alloc(0x1000);
    image[0x1f1] = 1; // setup_sects
    image[0x201] = 0x66; // setup header length
    image.write("HdrS", 0x202, "latin1");
    image.writeUInt16LE(0x20f, 0x206);
    image.writeUInt16LE(0x1, 0x236); // XLF_KERNEL_64
    image.writeUInt32LE(2047, 0x238); // cmdline_size
    const path = join(dir.path, "bzImage");
    writeFileSync(path, image);
    const e = await startError({ vcpus: 1, memoryBytes: 64 * MiB, kernel: { path, cmdline: "x".repeat(2040) } });
    expect(e.message).toMatch(/kernel command line is \d+ bytes; the limit is 2047/);
  });

  test("a wrong config shape is a TypeError naming the field", () => {
    expect(() => new NativeVm({ vcpus: 1, memoryBytes: -1 } as never)).toThrow(/memoryBytes must be a non-negative integer/);
    expect(() => new NativeVm({ vcpus: 1, memoryBytes: MiB, disks: [{}] } as never)).toThrow(/disks\[0\]\.path must be a string/);
  });
});
