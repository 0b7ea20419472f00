/**
 * Boots the guest kernel + base image in QEMU (TCG, `-M microvm,acpi=off`, virtio-blk-device
 * drives, no initrd) as guest/README.md describes, and records the serial console: when the
 * agent's ready marker appeared, how QEMU ended, and the whole console text.
 */
import { spawn, spawnSync } from "node:child_process";

export const READY_MARKER = /^MOAT_AGENT_READY\b/m;

export interface BootOptions {
  vmlinux: string;
  /** The whole kernel command line. */
  cmdline: string;
  initrd?: string;
  /** virtio-blk-device drives in order: the first is /dev/vda. */
  disks?: { path: string; readOnly: boolean }[];
  /** QEMU -cpu model (default "max"). */
  cpu?: string;
  /** Number of vCPUs (default 1). */
  smp?: number;
  memoryMiB?: number;
  /** The console line that means "ready" (default: the agent's ready marker). */
  marker?: RegExp;
  timeoutMs: number;
}

export interface BootResult {
  console: string;
  /** ms from spawning QEMU to the ready marker, if it appeared. */
  readyAfterMs?: number;
  /** ms from spawning QEMU to its exit. */
  exitedAfterMs: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/**
 * The kernel command line of guest/README.md §3, plus extra (moat.*) parameters, plus no_timer_check:
 * under TCG on a loaded host the IO-APIC timer check can miss its ticks and panic the boot.
 */
export function guestCmdline(...extra: string[]): string {
  return ["console=ttyS0 root=/dev/vda rootfstype=erofs ro init=/sbin/moat-agent panic=-1 reboot=t no_timer_check", ...extra].join(" ");
}

export function findQemu(): string | undefined {
  const r = spawnSync("sh", ["-c", "command -v qemu-system-x86_64"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function qemuArgs(o: BootOptions): string[] {
  const args = [
    "-M", "microvm,acpi=off", "-accel", "tcg", "-cpu", o.cpu ?? "max", "-smp", String(o.smp ?? 1), "-m", String(o.memoryMiB ?? 512),
    "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
    "-kernel", o.vmlinux, "-append", o.cmdline,
  ];
  if (o.initrd) args.push("-initrd", o.initrd);
  (o.disks ?? []).forEach((d, i) => {
    const ro = d.readOnly ? ",readonly=on" : "";
    args.push("-drive", `id=disk${i},file=${d.path},format=raw,if=none${ro}`, "-device", `virtio-blk-device,drive=disk${i}`);
  });
  return args;
}

export function bootGuest(qemu: string, o: BootOptions): Promise<BootResult> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(qemu, qemuArgs(o), { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let readyAfterMs: number | undefined;
    let timedOut = false;
    const onData = (d: Buffer) => {
      text += d.toString();
      if (readyAfterMs === undefined && (o.marker ?? READY_MARKER).test(text.replace(/\r/g, ""))) {
        readyAfterMs = performance.now() - started;
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, o.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      resolvePromise({
        console: text.replace(/\r/g, ""),
        readyAfterMs,
        exitedAfterMs: performance.now() - started,
        exitCode,
        signal,
        timedOut,
      });
    });
  });
}

/** The last lines of a console log, for failure messages. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
