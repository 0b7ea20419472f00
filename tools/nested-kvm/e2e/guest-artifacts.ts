/**
 * The real guest artifacts the e2e suite boots: the kernel (guest/kernel/build.sh) and the base image
 * with the agent (guest/image/build.sh), found through their scripts' --check/--print-dir (never
 * built here: a missing one is an error naming the command that builds it), and the MachineSpec that
 * guest/README.md's boot contract describes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineSpec } from "@moat/backend-api";
import { repoDir } from "@moat/nested-kvm";

function cachedDir(script: string, what: string): string {
  const path = join(repoDir, script);
  if (!existsSync(path)) throw new Error(`${what}: ${script} does not exist in this checkout`);
  if (spawnSync(path, ["--check"], { stdio: "ignore" }).status !== 0) {
    throw new Error(`${what} is not built: run ${script} (tools/bootstrap.sh does)`);
  }
  const printed = spawnSync(path, ["--print-dir"], { encoding: "utf8" });
  if (printed.status !== 0) throw new Error(`${script} --print-dir failed: ${printed.stderr.trim()}`);
  return printed.stdout.trim();
}

export interface GuestArtifacts {
  kernel: string;
  /** The kernel's release as `uname -r` prints it in the guest. */
  kernelRelease: string | undefined;
  baseImage: string;
}

export function guestArtifacts(): GuestArtifacts {
  const kernelDir = cachedDir("guest/kernel/build.sh", "the guest kernel");
  const imageDir = cachedDir("guest/image/build.sh", "the guest base image");
  let kernelRelease: string | undefined;
  try {
    const info = JSON.parse(readFileSync(join(kernelDir, "build-info.json"), "utf8")) as Record<string, unknown>;
    const release = info.release ?? info.kernelRelease ?? info.uname ?? info.version;
    kernelRelease = typeof release === "string" ? release : undefined;
  } catch {
    kernelRelease = undefined;
  }
  return { kernel: join(kernelDir, "vmlinux"), kernelRelease, baseImage: join(imageDir, "base.erofs") };
}

/** The boot contract's command line (guest/README.md §3), tmpfs as the writable layer. */
export const GUEST_CMDLINE = "console=ttyS0 root=/dev/vda rootfstype=erofs ro init=/sbin/moat-agent panic=-1 reboot=t moat.rwdisk=none";

/** The agent's RPC port (guest/README.md §3, moat.port). */
export const AGENT_PORT = 1024;

export function sandboxSpec(artifacts: GuestArtifacts, workDir: string, guestCid: number): MachineSpec {
  return {
    vcpus: 1,
    memoryMiB: 512,
    kernel: { path: artifacts.kernel, cmdline: GUEST_CMDLINE },
    disks: [{ path: artifacts.baseImage, readOnly: true, cache: "none" }],
    vsock: { guestCid, udsPath: join(workDir, "vsock.sock") },
    shares: [],
    consoleLogPath: join(workDir, "console.log"),
  };
}
