/**
 * Test helpers: whether real KVM is usable here (tests skip with a printed reason when not),
 * assembling tiny CPL3 payloads with binutils, and temp directories.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addonPath } from "../../src/native.js";
import { existsSync } from "node:fs";

/** Why KVM tests cannot run here, or undefined when they can. */
export function kvmSkipReason(): string | undefined {
  if (!existsSync("/dev/kvm")) return "/dev/kvm does not exist on this host";
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return "/dev/kvm is not accessible (add the user to the kvm group)";
  }
  if (!existsSync(addonPath)) return `the addon is not built (${addonPath}); run pnpm --filter @moat/backend-kvm build`;
  return undefined;
}

export const skipReason = kvmSkipReason();
if (skipReason) console.log(`[backend-kvm tests] skipping KVM tests: ${skipReason}`);

export function tempDir(prefix = "moat-kvm-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Assembles 64-bit GNU-as source into a flat binary (entry = first byte) and returns its path. */
export function assemble(dir: string, name: string, source: string): string {
  const src = join(dir, `${name}.S`);
  const obj = join(dir, `${name}.o`);
  const bin = join(dir, `${name}.bin`);
  writeFileSync(src, `.code64\n${source}\n`);
  execFileSync("as", ["-o", obj, src]);
  execFileSync("objcopy", ["-O", "binary", obj, bin]);
  return bin;
}

/** Assembly snippets for payloads. */
export const asm = {
  /** Prints `text` on the 8250 (port 0x3f8). */
  print: (text: string) =>
    [...Buffer.from(text, "latin1")].map((b) => `mov $0x3f8, %dx\nmov $${b}, %al\nout %al, %dx`).join("\n"),
  /** Ends the machine with `status` through the exit port 0x604. */
  exit: (status: number) => `mov $0x604, %dx\nmov $${status}, %eax\nout %eax, %dx\n1: jmp 1b`,
  /** Spins forever (the machine runs until killed). */
  spin: "2: pause\njmp 2b",
};
