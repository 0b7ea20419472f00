import { describe, expect, test } from "vitest";
import type { MachineSpec } from "@moat/backend-api";
import { chooseAccelerator, parseQemuVersion, qemuArguments } from "../src/index.js";
import { isRecentEnough } from "../src/qemu-binary.js";
import { TailBuffer } from "../src/tail-buffer.js";

const paths = {
  qmpSocket: "/tmp/r/qmp.sock",
  rpcSocket: "/tmp/r/rpc.sock",
  controlSocket: "/tmp/r/ctl.sock",
  pidFile: "/tmp/r/qemu.pid",
  consoleLog: "/var/log/a,b.log",
};

const spec: MachineSpec = {
  vcpus: 2,
  memoryMiB: 512,
  kernel: { path: "/k/vmlinux", cmdline: "console=ttyS0 root=/dev/vda", initrd: "/k/initrd" },
  disks: [
    { path: "/i/base.erofs", readOnly: true, cache: "writeback" },
    { path: "/s/rw.img", readOnly: false, cache: "unsafe" },
  ],
  shares: [],
};

describe("accelerator choice", () => {
  const hw = { kvmUsable: true, cpuHasVirtualization: true, kvmModules: ["kvm_amd"] };
  test("hardware virtualization → kvm", () => {
    expect(chooseAccelerator(hw).accelerator).toBe("kvm");
  });
  test("nested PVM (kvm_pvm, no svm/vmx) → tcg with the reason", () => {
    const c = chooseAccelerator({ kvmUsable: true, cpuHasVirtualization: false, kvmModules: ["kvm_pvm"] });
    expect(c.accelerator).toBe("tcg");
    expect(c.why).toMatch(/nested KVM without hardware virtualization/);
  });
  test("no /dev/kvm → tcg", () => {
    expect(chooseAccelerator({ ...hw, kvmUsable: false }).why).toMatch(/\/dev\/kvm is missing/);
  });
  test("MOAT_QEMU_ACCEL overrides, and a bad value names the choices", () => {
    expect(chooseAccelerator(hw, "tcg").accelerator).toBe("tcg");
    expect(() => chooseAccelerator(hw, "hvf")).toThrow(/MOAT_QEMU_ACCEL="hvf" is not an accelerator: use "kvm" or "tcg"/);
  });
});

describe("QEMU version", () => {
  test("parses Debian's banner", () => {
    expect(parseQemuVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright")).toEqual({
      version: "7.2.22",
      major: 7,
      minor: 2,
    });
    expect(parseQemuVersion("not qemu")).toBeUndefined();
  });
  test("minimum version", () => {
    expect(isRecentEnough({ major: 6, minor: 2 })).toBe(true);
    expect(isRecentEnough({ major: 6, minor: 1 })).toBe(false);
    expect(isRecentEnough({ major: 8, minor: 0 })).toBe(true);
  });
});

describe("command line", () => {
  const args = qemuArguments(spec, "tcg", paths);
  const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
  test("microvm without ACPI, TCG with a capable CPU model", () => {
    expect(after("-M")[0]).toMatch(/^microvm,acpi=off/);
    expect(after("-accel")).toEqual(["tcg,thread=multi"]);
    expect(after("-cpu")).toEqual(["max"]);
    expect(after("-smp")).toEqual(["2"]);
    expect(after("-m")).toEqual(["512M"]);
    expect(args).toContain("-no-reboot");
  });
  test("kvm uses the host CPU", () => {
    const kvm = qemuArguments(spec, "kvm", paths);
    expect(kvm[kvm.indexOf("-cpu") + 1]).toBe("host");
  });
  test("disks in order, read-only flag and cache mode", () => {
    expect(after("-drive")).toEqual([
      "id=disk0,file=/i/base.erofs,format=raw,if=none,readonly=on,cache=writeback",
      "id=disk1,file=/s/rw.img,format=raw,if=none,readonly=off,cache=unsafe",
    ]);
  });
  test("commas in paths are escaped", () => {
    expect(after("-chardev")[0]).toBe("file,id=console,path=/var/log/a,,b.log,append=on");
  });
  test("agent channels are named virtio-serial ports", () => {
    expect(args.join(" ")).toContain("virtserialport,id=rpcport,chardev=rpc,name=moat.rpc");
    expect(args.join(" ")).toContain("virtserialport,id=ctlport,chardev=ctl,name=moat.ctl");
  });
  test("kernel, cmdline and initrd", () => {
    expect(after("-kernel")).toEqual(["/k/vmlinux"]);
    // TCG: the IO-APIC timer check is skipped (it can miss its ticks on a loaded host and panic).
    expect(after("-append")).toEqual(["console=ttyS0 root=/dev/vda no_timer_check"]);
    const kvm = qemuArguments(spec, "kvm", paths);
    expect(kvm[kvm.indexOf("-append") + 1]).toBe("console=ttyS0 root=/dev/vda");
    expect(after("-initrd")).toEqual(["/k/initrd"]);
  });
});

test("tail buffer keeps the last bytes", () => {
  const t = new TailBuffer(10);
  for (let i = 0; i < 10; i++) t.push(Buffer.from(`line${i}\n`));
  expect(t.text()).toBe("ne8\nline9\n");
  expect(t.text().length).toBe(10);
});
