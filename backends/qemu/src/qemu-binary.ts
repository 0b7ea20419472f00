/**
 * Finding the QEMU binary and what it can do: path (MOAT_QEMU or PATH), version, and the minimum
 * version moat needs (virtio-serial on `-M microvm` with `acpi=off`).
 */
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** QEMU releases older than this lack microvm options moat passes. */
export const MIN_QEMU_VERSION: readonly [number, number] = [6, 2];

export const QEMU_INSTALL_HINT =
  "install QEMU: on Debian/Ubuntu `sudo apt-get install qemu-system-x86` (tools/bootstrap.sh does this), " +
  "on Fedora `sudo dnf install qemu-system-x86`, on macOS `brew install qemu`; or set MOAT_QEMU to the binary";

export interface QemuBinary {
  path: string;
  version: string;
  major: number;
  minor: number;
}

/** Locates qemu-system-x86_64; undefined when it is nowhere to be found. */
export async function findQemu(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const explicit = env.MOAT_QEMU;
  const candidates = explicit
    ? [explicit]
    : (env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, "qemu-system-x86_64"));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Parses "QEMU emulator version 7.2.22 (Debian ...)". */
export function parseQemuVersion(text: string): { version: string; major: number; minor: number } | undefined {
  const m = /QEMU emulator version (\d+)\.(\d+)(\.\d+)?/.exec(text);
  if (!m) return undefined;
  return { version: `${m[1]}.${m[2]}${m[3] ?? ""}`, major: Number(m[1]), minor: Number(m[2]) };
}

export async function describeQemu(path: string): Promise<QemuBinary> {
  const { stdout } = await run(path, ["-version"], { timeout: 10_000 });
  const parsed = parseQemuVersion(stdout);
  if (!parsed) throw new Error(`${path} -version printed no QEMU version: ${JSON.stringify(stdout.slice(0, 200))}`);
  return { path, ...parsed };
}

export function isRecentEnough(q: { major: number; minor: number }): boolean {
  const [maj, min] = MIN_QEMU_VERSION;
  return q.major > maj || (q.major === maj && q.minor >= min);
}
