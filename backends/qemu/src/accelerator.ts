/**
 * Choosing QEMU's accelerator. KVM only helps where it can run a guest kernel: /dev/kvm must be
 * usable and the host CPU must expose hardware virtualization (vmx/svm). Nested setups such as PVM
 * provide /dev/kvm without it (ring-0 guest code is emulated and Linux does not boot), so there we
 * use TCG. MOAT_QEMU_ACCEL=kvm|tcg overrides the choice.
 */
import { access, constants, readFile, readdir } from "node:fs/promises";

export type Accelerator = "kvm" | "tcg";

export interface AcceleratorChoice {
  accelerator: Accelerator;
  /** Why this one, in a user's words. */
  why: string;
}

export interface HostFacts {
  kvmUsable: boolean;
  cpuHasVirtualization: boolean;
  /** Loaded KVM vendor modules, e.g. ["kvm_amd"] or ["kvm_pvm"]. */
  kvmModules: string[];
}

export async function readHostFacts(): Promise<HostFacts> {
  let kvmUsable = false;
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
    kvmUsable = true;
  } catch {
    kvmUsable = false;
  }
  let cpuHasVirtualization = false;
  try {
    const cpuinfo = await readFile("/proc/cpuinfo", "utf8");
    cpuHasVirtualization = /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
  } catch {
    cpuHasVirtualization = false;
  }
  let kvmModules: string[] = [];
  try {
    kvmModules = (await readdir("/sys/module")).filter((m) => /^kvm_/.test(m));
  } catch {
    kvmModules = [];
  }
  return { kvmUsable, cpuHasVirtualization, kvmModules };
}

export function chooseAccelerator(facts: HostFacts, override?: string): AcceleratorChoice {
  if (override !== undefined && override !== "") {
    if (override !== "kvm" && override !== "tcg") {
      throw new Error(`MOAT_QEMU_ACCEL=${JSON.stringify(override)} is not an accelerator: use "kvm" or "tcg"`);
    }
    return { accelerator: override, why: `MOAT_QEMU_ACCEL=${override}` };
  }
  if (!facts.kvmUsable) {
    return { accelerator: "tcg", why: "/dev/kvm is missing or not accessible: software emulation (TCG)" };
  }
  if (facts.kvmModules.includes("kvm_pvm") || !facts.cpuHasVirtualization) {
    return {
      accelerator: "tcg",
      why: "nested KVM without hardware virtualization (no vmx/svm): guest kernels cannot boot on it, using TCG",
    };
  }
  return { accelerator: "kvm", why: "hardware virtualization through /dev/kvm" };
}
