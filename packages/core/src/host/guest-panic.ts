/**
 * Telling a guest crash from an ordinary end. moat's guests boot with `panic=-1 reboot=t`, so a
 * panicking kernel resets the machine at once, and every backend reports that as a plain "reboot" —
 * which alone would file a crashed sandbox as "stopped", with no word of why. The exit is read
 * against what the console received since this boot: a kernel panic there makes it "crashed" with
 * the panic's message; so does a reset that the kernel never announced (an orderly restart, the
 * agent's shutdown included, prints "reboot: Restarting system" first; a triple fault prints
 * nothing). Both keep the console tail.
 */
import type { MachineExit } from "@moat/backend-api";
import { open, stat } from "node:fs/promises";

const PANIC = /Kernel panic - not syncing: ?([^\n]*)/;
/** What Linux's kernel_restart() prints (at KERN_EMERG, so even with `quiet`) before it resets. */
const ORDERLY_RESTART = /reboot: Restarting system/;
/** How much of the console (since boot) is searched: a panic's trace is a few KiB. */
const SCAN_BYTES = 64 * 1024;
const TAIL_BYTES = 2_000;

/** Where this boot's console output will start: the log's current size (it is appended to). */
export async function consoleOffset(consolePath: string | undefined): Promise<number> {
  if (!consolePath) return 0;
  return (await stat(consolePath).catch(() => undefined))?.size ?? 0;
}

/** The exit as the user should read it: a kernel panic, or a reset nobody announced, is a crash. */
export async function explainExit(exit: MachineExit, consolePath: string | undefined, since: number): Promise<MachineExit> {
  if (!consolePath || exit.reason === "killed" || exit.reason === "crashed") return exit;
  const text = await readConsoleSince(consolePath, since).catch(() => undefined);
  if (text === undefined) return exit;
  const tail = () => (text.trim() ? `\nconsole tail:\n${text.slice(-TAIL_BYTES).trim()}` : "\n(the console stayed empty)");
  const panic = PANIC.exec(text);
  if (panic) return { reason: "crashed", detail: `the guest kernel panicked: ${panic[1]!.trim() || "(no message)"}${tail()}` };
  if (exit.reason === "reboot" && !ORDERLY_RESTART.test(text)) {
    return { reason: "crashed", detail: `the guest machine reset without a kernel panic or an orderly restart (a triple fault)${tail()}` };
  }
  return exit;
}

/**
 * The console log from offset `since` on, at most its last SCAN_BYTES (the log is appended to across
 * boots and is never read whole); undefined when it cannot be read.
 */
export async function readConsoleSince(path: string, since: number): Promise<string | undefined> {
  const file = await open(path, "r").catch(() => undefined);
  if (!file) return undefined;
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
