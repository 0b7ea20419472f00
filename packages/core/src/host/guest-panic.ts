/**
 * Telling a guest kernel panic from an ordinary end. moat's guests boot with `panic=-1 reboot=t`, so
 * a panicking kernel resets the machine at once, and every backend reports that as a plain
 * "reboot" — which alone would file a crashed sandbox as "stopped", with no word of why. The panic
 * is in the console log, so the exit is read against what the console received since this boot:
 * a panic there makes it "crashed", with the panic's message and the console tail.
 */
import type { MachineExit } from "@moat/backend-api";
import { open, stat } from "node:fs/promises";

const PANIC = /Kernel panic - not syncing: ?([^\n]*)/;
/** How much of the console (since boot) is searched: a panic's trace is a few KiB. */
const SCAN_BYTES = 64 * 1024;
const TAIL_BYTES = 2_000;

/** Where this boot's console output will start: the log's current size (it is appended to). */
export async function consoleOffset(consolePath: string | undefined): Promise<number> {
  if (!consolePath) return 0;
  return (await stat(consolePath).catch(() => undefined))?.size ?? 0;
}

/** The exit as the user should read it: a reboot or power-off after a kernel panic is a crash. */
export async function explainExit(exit: MachineExit, consolePath: string | undefined, since: number): Promise<MachineExit> {
  if (!consolePath || exit.reason === "killed" || exit.reason === "crashed") return exit;
  const text = await readSince(consolePath, since).catch(() => "");
  const panic = PANIC.exec(text);
  if (!panic) return exit;
  const message = panic[1]!.trim() || "(no message)";
  return { reason: "crashed", detail: `the guest kernel panicked: ${message}\nconsole tail:\n${text.slice(-TAIL_BYTES).trim()}` };
}

async function readSince(path: string, since: number): Promise<string> {
  const file = await open(path, "r").catch(() => undefined);
  if (!file) return "";
  try {
    const { size } = await file.stat();
    const start = Math.max(since, size - SCAN_BYTES);
    if (start >= size) return "";
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await file.close();
  }
}
