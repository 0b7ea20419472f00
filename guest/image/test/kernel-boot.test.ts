/**
 * The guest kernel on its own (no agent, no image): boots guest/kernel's vmlinux in QEMU TCG
 * (`-M microvm,acpi=off`, PVH entry) with a throw-away busybox initramfs, and checks at run time what
 * both of the kernel's roles need: the filesystems (erofs, ext4, overlay, virtiofs/fuse, 9p, cgroup2),
 * SMP from the MP table, the virtio-mmio block device from the command line, and /dev/kvm when the
 * virtual CPU has SVM (the L1 role of tools/nested-kvm).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolveKernel } from "./artifacts.js";
import { bootGuest, findQemu, tail } from "./qemu-boot.js";

const BUSYBOX = "/bin/busybox";
const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
echo "MOAT_KTEST fs: $(/bin/busybox awk '{print $NF}' /proc/filesystems | /bin/busybox tr '\\n' ' ')"
if [ -e /dev/kvm ]; then echo "MOAT_KTEST kvm: yes"; else echo "MOAT_KTEST kvm: no"; fi
if [ -b /dev/vda ]; then echo "MOAT_KTEST vda: yes"; else echo "MOAT_KTEST vda: no"; fi
echo "MOAT_KTEST cpus: $(/bin/busybox nproc)"
echo "MOAT_KTEST release: $(/bin/busybox uname -r)"
echo MOAT_KTEST_DONE
/bin/busybox reboot -f
`;

let work = "";
let setup: { vmlinux: string; initrd: string; disk: string; qemu: string } | { skipReason: string };

beforeAll(async () => {
  const qemu = findQemu();
  if (!qemu) return void (setup = { skipReason: "qemu-system-x86_64 not found (apt-get install qemu-system-x86)" });
  if (!existsSync(BUSYBOX)) return void (setup = { skipReason: `${BUSYBOX} not found (apt-get install busybox-static)` });
  const kernel = await resolveKernel();
  if (!kernel.ok) return void (setup = { skipReason: kernel.skipReason });

  work = mkdtempSync(join(tmpdir(), "moat-kernel-test-"));
  const root = join(work, "initramfs");
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync(BUSYBOX, join(root, "bin/busybox"));
  writeFileSync(join(root, "init"), INIT);
  chmodSync(join(root, "init"), 0o755);
  const initrd = join(work, "initrd.cpio.gz");
  const pack = spawnSync("sh", ["-c", `cd "${root}" && find . | cpio -o -H newc --quiet | gzip -1 > "${initrd}"`]);
  if (pack.status !== 0) throw new Error(`packing the test initramfs failed: ${pack.stderr}`);
  const disk = join(work, "disk.img");
  writeFileSync(disk, Buffer.alloc(1024 * 1024));
  setup = { vmlinux: kernel.vmlinux, initrd, disk, qemu };
}, 3_600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("guest kernel alone (QEMU TCG, microvm, busybox initramfs)", () => {
  test("boots via PVH, sees SMP, virtio-blk, the filesystems moat needs, and /dev/kvm with SVM", async (ctx) => {
    if ("skipReason" in setup) {
      console.warn(`SKIP kernel boot test: ${setup.skipReason}`);
      return ctx.skip();
    }
    const r = await bootGuest(setup.qemu, {
      vmlinux: setup.vmlinux,
      initrd: setup.initrd,
      cmdline: "console=ttyS0 panic=-1 reboot=t rdinit=/init no_timer_check", // no_timer_check: see qemu-boot.ts
      disks: [{ path: setup.disk, readOnly: true }],
      cpu: "EPYC-v1,+svm,+npt",
      smp: 2,
      marker: /^MOAT_KTEST_DONE$/m,
      timeoutMs: 180_000,
    });
    const why = `console tail:\n${tail(r.console)}`;
    expect(r.timedOut, `QEMU did not exit within 180 s; ${why}`).toBe(false);
    expect(r.readyAfterMs, `no MOAT_KTEST_DONE line; ${why}`).toBeDefined();
    expect(r.console, why).not.toMatch(/Kernel panic/);
    expect(r.exitCode, `QEMU exit code; ${why}`).toBe(0);

    const fs = /^MOAT_KTEST fs: (.*)$/m.exec(r.console)?.[1]?.split(" ") ?? [];
    for (const want of ["erofs", "ext4", "overlay", "tmpfs", "devtmpfs", "fuse", "virtiofs", "9p", "cgroup2", "proc", "sysfs"]) {
      expect(fs, `filesystem ${want} missing from /proc/filesystems`).toContain(want);
    }
    expect(r.console).toMatch(/^MOAT_KTEST kvm: yes$/m);
    expect(r.console).toMatch(/^MOAT_KTEST vda: yes$/m);
    expect(r.console).toMatch(/^MOAT_KTEST cpus: 2$/m);
    console.log(`kernel boot (TCG, to init's last line): ${Math.round(r.readyAfterMs ?? 0)} ms; QEMU exit after ${Math.round(r.exitedAfterMs)} ms`);
  }, 240_000);
});
