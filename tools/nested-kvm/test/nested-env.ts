/**
 * Shared by the tests that boot the L1 VM: whether they can run here (QEMU and the L1 kernel present)
 * and, if not, the reason they print when they skip. Under CI the kernel must exist (tools/bootstrap.sh
 * builds it), so there a missing kernel fails instead of skipping.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { findL1Kernel } from "@moat/nested-kvm";

function missingPrerequisite(): string | undefined {
  if (spawnSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" }).status !== 0) {
    return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
  }
  try {
    findL1Kernel();
    return undefined;
  } catch (error) {
    if (process.env.CI) throw error;
    return (error as Error).message;
  }
}

export const skipReason = missingPrerequisite();
if (skipReason) console.warn(`[nested-kvm] skipping the L1 boot tests: ${skipReason}`);

/** Child process ids of `parent` (from /proc). */
export function childPids(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === parent) children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return children;
}

/** The process's command name (/proc/<pid>/comm), or undefined when it is gone. */
export function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
