/**
 * The harness end to end: boots the real L1 kernel in QEMU TCG and runs commands in it. Each test is
 * one boot (~10 s), so they are few: status and streaming, KVM at CPL0 inside, timeout, and cleanup
 * when the tool itself is terminated or killed.
 */
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageDir, probeBinaryPath, repoDir, runNested, startNested } from "@moat/nested-kvm";
import { childPids, commandName, running, skipReason } from "./nested-env.js";

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.skipIf(skipReason !== undefined)("nested-kvm harness (boots QEMU TCG)", () => {
  it("streams output live, runs in the caller's cwd and env, and returns the inner status", async () => {
    let output = "";
    const seenAt: Record<string, number> = {};
    const result = await runNested({
      command: ["sh", "-c", 'echo "first $PWD $MOAT_PROBE_VALUE"; sleep 3; echo second >&2; exit 3'],
      cwd: repoDir,
      env: { ...process.env, MOAT_PROBE_VALUE: "it's passed" },
      onOutput: (data) => {
        output += data.toString();
        for (const word of ["first", "second"]) if (output.includes(word)) seenAt[word] ??= Date.now();
      },
      timeoutSeconds: 120,
    });
    expect(result.exitCode, output + result.consoleTail).toBe(3);
    expect(output).toContain(`first ${repoDir} it's passed\n`);
    expect(output).toContain("second\n");
    expect(output).not.toContain("MOAT-NESTED-EXIT");
    // Streamed: "first" reached us while the command was still sleeping, well before "second".
    expect(seenAt.second! - seenAt.first!).toBeGreaterThan(1500);
  });

  it("gives /dev/kvm with hardware-virtualization semantics: a long-mode CPL0 payload runs", async () => {
    let output = "";
    const result = await runNested({
      command: ["sh", "-c", `ls -l /dev/kvm && ${probeBinaryPath} 20000000`],
      onOutput: (data) => (output += data.toString()),
      timeoutSeconds: 120,
    });
    console.log(`[nested-kvm] inside L1: ${output.trim().split("\n").at(-1)} (boot-run-exit ${(result.durationMs / 1000).toFixed(1)} s)`);
    expect(result.exitCode, output + result.consoleTail).toBe(0);
    expect(output).toMatch(/^crw.* \/dev\/kvm$/m);
    expect(output).toMatch(/kvm-probe: long mode CPL0 ok: 20000000 iterations/);
  });

  it("kills QEMU at the timeout and reports it with the console tail", async () => {
    const messages: string[] = [];
    let qemuPid = 0;
    const result = await runNested({
      command: ["sh", "-c", "echo about-to-hang; exec sleep 1000"],
      timeoutSeconds: 60,
      onOutput: () => {},
      onMessage: (line) => messages.push(line),
      onStarted: (pid) => (qemuPid = pid),
    });
    expect(result.exitCode).toBe(124);
    expect(result.timedOut).toBe(true);
    expect(messages.join("\n")).toMatch(/inner command timed out after 60s; QEMU killed\. Last console lines:\n[\s\S]*about-to-hang/);
    expect(running(qemuPid)).toBe(false);
  });

  it("cancel() kills QEMU at once", async () => {
    let qemuPid = 0;
    const run = startNested({ command: ["sleep", "1000"], onOutput: () => {}, onMessage: () => {}, onStarted: (pid) => (qemuPid = pid) });
    await sleep(500);
    run.cancel("SIGINT");
    const result = await run.result;
    expect(result.exitCode).toBe(130);
    expect(running(qemuPid)).toBe(false);
  });

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`leaves no QEMU behind when the tool gets ${signal}`, async () => {
      const tool = spawn(join(packageDir, "run"), ["--", "sleep", "1000"], { stdio: ["ignore", "pipe", "pipe"] });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => tool.on("exit", (code, sig) => resolve({ code, signal: sig })));
      // run (bash) execs node, which starts QEMU (setpriv execs it, so it is node's child).
      const qemuPid = await waitFor("QEMU to start", () => childPids(tool.pid!).find((pid) => running(pid) && commandName(pid)?.startsWith("qemu-system")));
      tool.kill(signal);
      const status = await exited;
      if (signal === "SIGTERM") expect(status.code).toBe(143);
      await waitFor("QEMU to be gone", () => (running(qemuPid) ? undefined : true), 10_000);
    });
  }
});
