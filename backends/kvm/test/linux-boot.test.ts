/**
 * Full Linux boot on this backend (T2 inside tools/nested-kvm, T3 on hardware): the guest kernel
 * (guest/kernel, PVH vmlinux and bzImage) with a busybox initrd whose /init prints a marker,
 * reads a virtio-blk disk, lists its vCPUs and reboots (`reboot=t`: a triple fault, our power-off).
 * Skips with the reason where probe() says guest kernels cannot boot (our nested-PVM CI host) or
 * the kernel is not built.  Run in L1: tools/nested-kvm/run -- pnpm vitest run --project backend-kvm linux-boot
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { createBackend, NativeVm } from "../src/index.js";
import { tempDir } from "./helpers/kvm.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const buildScript = join(repo, "guest/kernel/build.sh");

function kernelDir(): string | undefined {
  if (process.env.MOAT_GUEST_KERNEL_DIR) return process.env.MOAT_GUEST_KERNEL_DIR;
  if (!existsSync(buildScript) || spawnSync(buildScript, ["--check"]).status !== 0) return undefined;
  return execFileSync(buildScript, ["--print-dir"], { encoding: "utf8" }).trim();
}

const probe = await createBackend().probe();
const dir = kernelDir();
const reason = !probe.available
  ? `guest kernels cannot boot on this host's KVM: ${probe.reason}`
  : !dir
    ? "the guest kernel is not built (guest/kernel/build.sh), or set MOAT_GUEST_KERNEL_DIR"
    : !existsSync("/bin/busybox")
      ? "busybox-static is not installed"
      : undefined;
if (reason) console.log(`[backend-kvm linux-boot] skipping: ${reason}`);

const tmp = tempDir("moat-linux-");
afterAll(() => tmp.cleanup());

function makeInitrd(): string {
  const root = join(tmp.path, "root");
  for (const d of ["bin", "dev", "proc", "sys"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  writeFileSync(
    join(root, "init"),
    `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
exec >/dev/ttyS0 2>&1
echo "MOAT-LINUX-UP cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "MOAT-DISK $(head -c 16 /dev/vda)"
reboot -f
`,
  );
  chmodSync(join(root, "init"), 0o755);
  const out = join(tmp.path, "initrd.cpio");
  execFileSync("sh", ["-c", `cd '${root}' && find . | cpio -o -H newc > '${out}' 2>/dev/null`]);
  return out;
}

describe.skipIf(reason)("Linux boots on the KVM backend", () => {
  const initrd = reason ? "" : makeInitrd();
  const disk = join(tmp.path, "disk.img");
  writeFileSync(disk, Buffer.concat([Buffer.from("moat-disk-marker"), Buffer.alloc(1024 * 1024)]));

  for (const image of ["vmlinux", "bzImage"]) {
    test(`${image}: 2 vCPUs, initrd, virtio-blk; reboot ends the machine`, { timeout: 120_000 }, async () => {
      const vm = new NativeVm({
        vcpus: 2,
        memoryBytes: 256 * 1024 * 1024,
        kernel: { path: join(dir!, image), cmdline: "console=ttyS0 reboot=t panic=-1", initrd },
        disks: [{ path: disk, readOnly: true }],
        consoleEvents: true,
        consolePath: join(tmp.path, `${image}.log`),
      });
      let text = "";
      vm.on("console", (d) => (text += d.toString("latin1")));
      const info = await vm.start();
      expect(info.cmdline).toContain("virtio_mmio.device=4K@0xd0000000:5");
      const exit = await vm.exited;
      expect(text, text).toContain("MOAT-LINUX-UP cpus=2");
      expect(text).toContain("MOAT-DISK moat-disk-marker");
      expect(exit, text.slice(-2000)).toMatchObject({ reason: "reboot" });
    });
  }
});
