/**
 * Boots the real guest (kernel + base image with this agent as PID 1) in QEMU TCG with the RPC on a
 * virtio-serial port named moat.rpc — the transport of the QEMU fallback backend — exposed on the
 * host as a Unix socket. Artifacts come from guest/kernel/build.sh and guest/image/build.sh
 * (`--print-dir`, cached; exit 3 means "cannot build here", which becomes a skip reason).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { agentDir } from "./agent-harness.js";

const repoRoot = join(agentDir, "../..");

export type Guest = { ok: true; vmlinux: string; baseImage: string } | { ok: false; skipReason: string };

function printDir(script: string): { dir: string } | { skipReason: string } {
  const r = spawnSync(join(repoRoot, script), ["--print-dir"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 1_500_000 });
  if (r.status === 0) return { dir: r.stdout.trim().split("\n").pop() ?? "" };
  const tail = (r.stderr ?? "").trim().split("\n").slice(-15).join("\n");
  if (r.status === 3) return { skipReason: `${script} cannot build here (missing prerequisite):\n${tail}` };
  throw new Error(`${script} --print-dir failed (exit ${r.status}):\n${tail}`);
}

export function resolveGuest(): Guest {
  if (spawnSync("sh", ["-c", "command -v qemu-system-x86_64"]).status !== 0) {
    return { ok: false, skipReason: "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86; tools/bootstrap.sh does it)" };
  }
  for (const s of ["guest/kernel/build.sh", "guest/image/build.sh"]) {
    if (!existsSync(join(repoRoot, s))) return { ok: false, skipReason: `${s} does not exist yet` };
  }
  const kernel = printDir("guest/kernel/build.sh");
  if ("skipReason" in kernel) return { ok: false, skipReason: kernel.skipReason };
  const image = printDir("guest/image/build.sh");
  if ("skipReason" in image) return { ok: false, skipReason: image.skipReason };
  return { ok: true, vmlinux: join(kernel.dir, "vmlinux"), baseImage: join(image.dir, "base.erofs") };
}

export interface BootedGuest {
  proc: ChildProcess;
  rpcSocket: string;
  console: () => string;
  /** ms from starting QEMU to the ready marker (TCG: software emulation). */
  readyAfterMs: number;
  /** Resolves with QEMU's exit code once it ends by itself. */
  exited: Promise<number | null>;
  kill(): void;
}

export async function bootWithSerial(o: {
  vmlinux: string;
  baseImage: string;
  writableDisk?: string;
  dir: string;
  params: string[];
  readyTimeoutMs: number;
}): Promise<BootedGuest> {
  const rpcSocket = join(o.dir, "rpc.sock");
  // no_timer_check: under TCG on a loaded host the IO-APIC timer check can miss its ticks and panic.
  const cmdline = ["console=ttyS0 root=/dev/vda rootfstype=erofs ro init=/sbin/moat-agent panic=-1 reboot=t no_timer_check", ...o.params].join(" ");
  const args = [
    "-M", "microvm,acpi=off", "-accel", "tcg", "-cpu", "max", "-m", "512", "-smp", "1",
    "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
    "-kernel", o.vmlinux, "-append", cmdline,
    "-drive", `id=base,file=${o.baseImage},format=raw,if=none,readonly=on`, "-device", "virtio-blk-device,drive=base",
  ];
  if (o.writableDisk) args.push("-drive", `id=rw,file=${o.writableDisk},format=raw,if=none`, "-device", "virtio-blk-device,drive=rw");
  args.push(
    "-device", "virtio-serial-device",
    "-chardev", `socket,id=rpc,path=${rpcSocket},server=on,wait=off`,
    "-device", "virtserialport,chardev=rpc,name=moat.rpc",
  );
  const started = performance.now();
  const proc = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  proc.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once("exit", (code) => res(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`no MOAT_AGENT_READY within ${o.readyTimeoutMs} ms; console:\n${text}`));
    }, o.readyTimeoutMs);
    const check = () => {
      if (/^MOAT_AGENT_READY\b/m.test(text.replace(/\r/g, ""))) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`QEMU exited (${code}) before the agent was ready; console:\n${text}`));
    });
  });
  const readyAfterMs = performance.now() - started;
  return { proc, rpcSocket, readyAfterMs, console: () => text.replace(/\r/g, ""), exited, kill: () => proc.kill("SIGKILL") };
}
