/**
 * The host's TSC frequency, handed to the L1 kernel as `tsc_early_khz=`. Under TCG the guest's TSC
 * ticks at the host's rate, but microvm has no PIT-calibration reference (no HPET, no ACPI PM timer),
 * so without this the L1 kernel marks the TSC unusable, `tsc_khz` stays 0, and KVM inside never
 * enters a guest: KVM_RUN spins on its clock update (kvm_guest_time_update) at the first instruction.
 */
import { readFileSync } from "node:fs";

/** kHz from the first "cpu MHz" line of /proc/cpuinfo, or undefined when it cannot be read. */
export function hostTscKhz(cpuinfo?: string): number | undefined {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return undefined;
    }
  }
  const match = /^cpu MHz\s*:\s*([\d.]+)/m.exec(text);
  const khz = match ? Math.round(Number(match[1]) * 1000) : NaN;
  return Number.isFinite(khz) && khz > 0 ? khz : undefined;
}
