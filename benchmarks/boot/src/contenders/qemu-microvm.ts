/**
 * The peer: Debian's QEMU, `-M microvm,acpi=off -accel kvm -cpu host`, booting the image with the
 * console on a pipe. Ready = the marker line on the console; the RSS sample is taken from
 * /proc/<qemu>/smaps at that moment, then QEMU is killed.
 */
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import type { BootImage } from "../image.js";
import { processRssBreakdown } from "../smaps.js";
import { parseReadyLine, type BootSample, type Contender } from "./contender.js";

const BOOT_TIMEOUT_MS = 60_000;

export function qemuMicrovmArgs(image: BootImage): string[] {
  return [
    "-M", "microvm,acpi=off",
    "-accel", "kvm",
    "-cpu", "host",
    "-m", String(image.memoryMiB),
    "-smp", "1",
    "-nodefaults",
    "-no-user-config",
    "-display", "none",
    "-no-reboot",
    "-chardev", "stdio,id=console,signal=off",
    "-serial", "chardev:console",
    "-kernel", image.kernel,
    "-initrd", image.initrd,
    "-append", image.cmdline,
  ];
}

export const qemuMicrovm: Contender = {
  name: "qemu-microvm",
  async unavailableReason() {
    if (spawnSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" }).status !== 0) return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
    try {
      accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    } catch {
      return "/dev/kvm is missing or not accessible";
    }
    return undefined;
  },
  bootOnce(image) {
    return new Promise<BootSample>((resolve, reject) => {
      const started = performance.now();
      const qemu = spawn("qemu-system-x86_64", qemuMicrovmArgs(image), { stdio: ["ignore", "pipe", "pipe"] });
      let console = "";
      let stderr = "";
      let sample: BootSample | undefined;
      const timer = setTimeout(() => qemu.kill("SIGKILL"), BOOT_TIMEOUT_MS);
      qemu.stdout.on("data", (chunk: Buffer) => {
        if (sample) return;
        console += chunk.toString("latin1");
        const uptime = parseReadyLine(console, image.marker);
        if (uptime === undefined) return;
        const readyMs = performance.now() - started;
        sample = { readyMs, guestUptimeS: uptime, rss: processRssBreakdown(qemu.pid!, image.memoryMiB << 20) };
        qemu.kill("SIGKILL");
      });
      qemu.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      qemu.on("error", reject);
      qemu.on("close", (code, signal) => {
        clearTimeout(timer);
        if (sample) return resolve(sample);
        reject(new Error(`QEMU ended (${signal ?? `status ${code}`}) before the ready marker. stderr: ${stderr.trim()}\nconsole tail:\n${console.slice(-2000)}`));
      });
    });
  },
};
