/**
 * What every contender boots: the moat guest kernel (the same one the nested harness uses as L1
 * kernel) and a small busybox initramfs whose /init prints a ready marker with the guest uptime and
 * then idles (the benchmark kills the VM once it has the marker and the RSS sample). The same bytes go
 * to every contender, so the comparison is like for like.
 */
import { busyboxPath, cachedCpio, findL1Kernel } from "@moat/nested-kvm";

export const READY_MARKER = "MOAT-BENCH-READY";

export interface BootImage {
  kernel: string;
  initrd: string;
  cmdline: string;
  memoryMiB: number;
  /** The console line prefix that means "booted": followed by the guest uptime in seconds. */
  marker: string;
}

const INIT = `#!/bin/busybox sh
# benchmarks/boot: print the ready marker with the guest uptime, then idle until the VM is killed.
/bin/busybox mount -t proc proc /proc
read -r uptime idle < /proc/uptime
echo "${READY_MARKER} $uptime"
exec /bin/busybox sleep 3600
`;

export function benchImage(memoryMiB: number, env: NodeJS.ProcessEnv = process.env): BootImage {
  const initrd = cachedCpio(
    {
      kind: "bench-boot",
      name: "initrd.cpio.gz",
      dirs: ["dev", "proc"],
      files: [
        { path: "bin/busybox", from: busyboxPath, mode: 0o755 },
        { path: "init", content: INIT, mode: 0o755 },
      ],
    },
    env,
  );
  return {
    kernel: findL1Kernel(env),
    initrd,
    cmdline: "console=ttyS0 quiet panic=-1 rdinit=/init",
    memoryMiB,
    marker: READY_MARKER,
  };
}
