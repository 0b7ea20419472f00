/**
 * probe(): can this host run guest kernels on KVM? The addon opens /dev/kvm, checks the API version
 * and runs a tiny CPL0 program with a 1 s budget on a worker thread, which tells apart: no
 * /dev/kvm, no permission, API mismatch, and KVM that cannot run kernel code (nested PVM, where
 * only CPL3 runs natively). Cached per process, and the CPL0 verdict on disk per host boot
 * (probe-cache.ts), so only the first run after a boot pays for it.
 */
import { arch } from "node:os";
import type { ProbeResult } from "@moat/backend-api";
import { addonPath, loadAddon, type NativeProbe } from "./native.js";
import { probeCachePath, readCachedProbe, writeCachedProbe } from "./probe-cache.js";

const PROBE_TIMEOUT_MS = 1000;

const FIXES: Record<string, string> = {
  NO_DEVICE: "enable virtualization (VT-x/AMD-V) in the firmware and load the kvm_intel or kvm_amd module",
  PERMISSION: "add your user to the kvm group: sudo usermod -aG kvm $USER, then log in again",
  API_VERSION: "update the host kernel or moat so that their KVM API versions match",
  NO_GUEST_KERNEL: "run on a host with hardware virtualization (bare metal, or a VM given nested VT-x/AMD-V)",
};

let cached: Promise<NativeProbe & { fromCache: boolean }> | undefined;

/**
 * The raw native probe, memoised, its CPL0 verdict reused from the disk cache when this host state
 * was probed before (`fromCache`); a load failure of the addon becomes code "HV_ERROR".
 */
export function nativeProbe(): Promise<NativeProbe & { fromCache: boolean }> {
  cached ??= (async () => {
    const cachePath = probeCachePath(addonPath);
    const known = readCachedProbe(cachePath);
    if (known) return { ...known, fromCache: true };
    try {
      const probe = await loadAddon().probe(PROBE_TIMEOUT_MS);
      writeCachedProbe(cachePath, probe);
      return { ...probe, fromCache: false };
    } catch (error) {
      return { code: "HV_ERROR", message: (error as Error).message, elapsedMs: 0, fromCache: false } as const;
    }
  })();
  return cached;
}

export async function probeKvm(): Promise<ProbeResult> {
  const raw = await nativeProbe();
  const available = raw.code === "OK";
  return {
    available,
    ...(available ? {} : { reason: raw.message }),
    ...(FIXES[raw.code] ? { fix: FIXES[raw.code] } : {}),
    hostArch: arch() === "arm64" ? "arm64" : "x64",
    guestArchs: ["x86_64"],
    features: { snapshot: false, pause: true, shares: false, hardwareAccelerated: available },
    details: {
      accelerator: "kvm",
      probe: raw.code,
      // CPL3 guest code (the T1 device-test payloads) runs wherever /dev/kvm opens.
      cpl3: raw.code === "OK" || raw.code === "NO_GUEST_KERNEL" ? "yes" : "no",
      cpl0ProbeMs: raw.elapsedMs.toFixed(1),
      cpl0ProbeCached: raw.fromCache ? "yes (same host boot, device, user and addon)" : "no",
    },
  };
}
