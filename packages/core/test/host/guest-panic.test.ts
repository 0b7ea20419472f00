/**
 * guest-panic: a reboot after a kernel panic printed in this boot's console is a crash naming the
 * panic, and so is a reset the kernel never announced; a panic from an earlier boot of the same log,
 * or an orderly restart, stays what it was.
 * (The end-to-end suites panic a real guest: sandbox-cli.e2e.test.ts.)
 */
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { consoleOffset, explainExit } from "../../src/host/guest-panic.js";

const PANIC_LINES = [
  "[   12.345678] Out of memory and no killable processes...",
  "[   12.345679] Kernel panic - not syncing: System is deadlocked on memory",
  "[   12.345680] CPU: 0 PID: 1 Comm: moat-agent Not tainted 6.1.0 #1",
  "[   12.345681] ---[ end Kernel panic - not syncing: System is deadlocked on memory ]---",
].join("\n");

describe("explainExit", () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), "moat-panic-"))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test("a reboot after a panic in this boot's console is a crash with the panic's message and the tail", async () => {
    const log = join(dir, "this-boot.log");
    await writeFile(log, "an earlier boot, all well\n");
    const since = await consoleOffset(log);
    await appendFile(log, `[    0.000000] Linux version 6.1.0\n${PANIC_LINES}\n`);
    const exit = await explainExit({ reason: "reboot" }, log, since);
    expect(exit.reason).toBe("crashed");
    expect(exit.detail?.split("\n")[0]).toBe("the guest kernel panicked: System is deadlocked on memory");
    expect(exit.detail).toContain("console tail:\n[    0.000000] Linux version 6.1.0");
    expect(exit.detail).not.toContain("an earlier boot");
  });

  test("a panic printed before this boot does not count; nor does a reboot, power-off or kill without one", async () => {
    const log = join(dir, "earlier-boot.log");
    await writeFile(log, `${PANIC_LINES}\n`);
    const since = await consoleOffset(log);
    await appendFile(log, "[    0.000000] Linux version 6.1.0\nMOAT_AGENT_READY\nMOAT_AGENT_POWEROFF\n[    2.014688] reboot: Restarting system\n");
    expect(await explainExit({ reason: "reboot" }, log, since)).toEqual({ reason: "reboot" });
    expect(await explainExit({ reason: "poweroff" }, log, since)).toEqual({ reason: "poweroff" });
    expect(await explainExit({ reason: "killed" }, log, 0)).toEqual({ reason: "killed" });
  });

  test("a reset the kernel never announced (a triple fault) is a crash, with the console tail", async () => {
    const log = join(dir, "triple-fault.log");
    await writeFile(log, "[    0.000000] Linux version 6.1.0\nMOAT_AGENT_READY\n");
    expect(await explainExit({ reason: "reboot" }, log, 0)).toEqual({
      reason: "crashed",
      detail: "the guest machine reset without a kernel panic or an orderly restart (a triple fault)\nconsole tail:\n[    0.000000] Linux version 6.1.0\nMOAT_AGENT_READY",
    });
    // A power-off without either is left alone (halting is how some guests end).
    expect(await explainExit({ reason: "poweroff" }, log, 0)).toEqual({ reason: "poweroff" });
    // A reset before the kernel printed anything (seen in nested TCG: a triple fault at early boot).
    expect(await explainExit({ reason: "reboot" }, log, await consoleOffset(log))).toEqual({
      reason: "crashed",
      detail: "the guest machine reset without a kernel panic or an orderly restart (a triple fault)\n(the console stayed empty)",
    });
  });

  test("a power-off after a panic is a crash too; a crash keeps its own detail", async () => {
    const log = join(dir, "poweroff.log");
    await writeFile(log, "Kernel panic - not syncing:\n");
    expect((await explainExit({ reason: "poweroff" }, log, 0)).detail).toMatch(/^the guest kernel panicked: \(no message\)\n/);
    expect(await explainExit({ reason: "crashed", detail: "KVM_RUN failed" }, log, 0)).toEqual({ reason: "crashed", detail: "KVM_RUN failed" });
  });

  test("no console log, or one that is missing, leaves the exit as it is", async () => {
    expect(await explainExit({ reason: "reboot" }, undefined, 0)).toEqual({ reason: "reboot" });
    expect(await consoleOffset(join(dir, "missing.log"))).toBe(0);
    expect(await explainExit({ reason: "reboot" }, join(dir, "missing.log"), 0)).toEqual({ reason: "reboot" });
  });
});
