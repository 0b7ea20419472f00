/**
 * The guest-alone boot test (independent of moat's VMM): QEMU TCG boots guest/kernel's vmlinux with
 * guest/image's base.erofs as its root disk (no initrd, `-M microvm,acpi=off`, virtio-blk-device),
 * with the command line of guest/README.md and `moat.poweroff=1`. The agent must print
 * MOAT_AGENT_READY on the console and then stop the VM, so that QEMU exits by itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot, resolveArtifacts, type Artifacts } from "./artifacts.js";
import { bootGuest, findQemu, guestCmdline, tail, type BootResult } from "./qemu-boot.js";

const TIMEOUT_MS = 240_000;
let artifacts: Artifacts;
let qemu: string | undefined;
let work = "";

beforeAll(async () => {
  qemu = findQemu();
  artifacts = qemu
    ? await resolveArtifacts()
    : { ok: false, skipReason: "qemu-system-x86_64 not found (apt-get install qemu-system-x86)" };
  work = mkdtempSync(join(tmpdir(), "moat-boot-test-"));
}, 3_600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function expectCleanReadyAndPoweroff(r: BootResult, what: string): void {
  const why = `${what}; console tail:\n${tail(r.console)}`;
  expect(r.timedOut, `QEMU did not exit within ${TIMEOUT_MS / 1000} s (killed); ${why}`).toBe(false);
  expect(r.readyAfterMs, `MOAT_AGENT_READY never appeared on the console; ${why}`).toBeDefined();
  expect(r.console, `the kernel panicked; ${why}`).not.toMatch(/Kernel panic/);
  expect(r.console, `the agent reported a fatal error; ${why}`).not.toMatch(/^MOAT_AGENT_FATAL/m);
  expect(r.exitCode, `QEMU's exit code; ${why}`).toBe(0);
}

describe("guest alone: kernel + base image + agent in QEMU TCG", () => {
  test("boots to MOAT_AGENT_READY and powers off on moat.poweroff=1 (tmpfs writable layer)", async (ctx) => {
    if (!artifacts.ok || !qemu) {
      console.warn(`SKIP guest boot test: ${artifacts.ok ? "no QEMU" : artifacts.skipReason}`);
      return ctx.skip();
    }
    const r = await bootGuest(qemu, {
      vmlinux: artifacts.vmlinux,
      cmdline: guestCmdline("moat.poweroff=1"),
      disks: [{ path: artifacts.baseImage, readOnly: true }],
      timeoutMs: TIMEOUT_MS,
    });
    expectCleanReadyAndPoweroff(r, "base image only");
    console.log(`guest boot (TCG, 1 vCPU): ready marker after ${Math.round(r.readyAfterMs ?? 0)} ms, QEMU exited after ${Math.round(r.exitedAfterMs)} ms`);
  }, TIMEOUT_MS + 30_000);

  test("boots with a writable disk from new-writable-disk.sh as /dev/vdb", async (ctx) => {
    if (!artifacts.ok || !qemu) {
      console.warn(`SKIP guest boot test: ${artifacts.ok ? "no QEMU" : artifacts.skipReason}`);
      return ctx.skip();
    }
    const disk = join(work, "rw.img");
    const made = spawnSync(join(repoRoot, "guest/image/new-writable-disk.sh"), [disk, "1G"], { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    const r = await bootGuest(qemu, {
      vmlinux: artifacts.vmlinux,
      cmdline: guestCmdline("moat.poweroff=1"),
      disks: [
        { path: artifacts.baseImage, readOnly: true },
        { path: disk, readOnly: false },
      ],
      timeoutMs: TIMEOUT_MS,
    });
    expectCleanReadyAndPoweroff(r, "base image + writable disk");
    expect(r.console, "the guest did not attach the second virtio-blk disk").toMatch(/virtio_blk virtio\d+: \[vdb\]/);
    // The agent used the disk: it holds an overlay upper directory now, and is still a clean ext4.
    const fsck = spawnSync("e2fsck", ["-fn", disk], { encoding: "utf8" });
    expect(fsck.status, `e2fsck after the boot:\n${fsck.stdout}${fsck.stderr}`).toBe(0);
    const ls = spawnSync("debugfs", ["-R", "ls -l /", disk], { encoding: "utf8" });
    expect(ls.stdout, `top of the writable disk after the boot:\n${ls.stdout}${ls.stderr}`).toMatch(/\bupper\b/);
    console.log(`guest boot with writable disk: ready marker after ${Math.round(r.readyAfterMs ?? 0)} ms`);
  }, TIMEOUT_MS + 30_000);

  test("the check can fail: an init that exits panics the kernel, and no ready marker is seen", async (ctx) => {
    if (!artifacts.ok || !qemu) {
      console.warn(`SKIP guest boot test: ${artifacts.ok ? "no QEMU" : artifacts.skipReason}`);
      return ctx.skip();
    }
    const r = await bootGuest(qemu, {
      vmlinux: artifacts.vmlinux,
      cmdline: guestCmdline().replace("init=/sbin/moat-agent", "init=/bin/true"),
      disks: [{ path: artifacts.baseImage, readOnly: true }],
      timeoutMs: TIMEOUT_MS,
    });
    expect(r.timedOut, tail(r.console)).toBe(false);
    expect(r.readyAfterMs).toBeUndefined();
    expect(r.console).toMatch(/Kernel panic - not syncing: Attempted to kill init/);
  }, TIMEOUT_MS + 30_000);
});
