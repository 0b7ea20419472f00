/**
 * End to end on the real backend (default @moat/backend-kvm), the real guest kernel, base image and
 * agent: boot → agent hello → exec → 10 MiB through cat → exit codes and signals → 5 MiB file put/get →
 * two sandboxes at once → graceful stop and forced kill with nothing left behind.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { guestArtifacts, type GuestArtifacts } from "./guest-artifacts.js";
import { backendName, bootSandbox, consoleText, loadBackend, type Sandbox } from "./sandbox.js";
import { notHereReason } from "./where.js";
import type { Backend } from "@moat/backend-api";

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Child pids of this process (VMM helper processes must not outlive their machine). */
function childPids(): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(fields[1]) === process.pid && fields[0] !== "Z";
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(notHereReason !== undefined)(`sandbox end to end on backend ${backendName}`, () => {
  let backend: Backend;
  let artifacts: GuestArtifacts;
  let sandbox: Sandbox;
  let childrenBefore: number[];

  beforeAll(async () => {
    childrenBefore = childPids();
    artifacts = guestArtifacts();
    backend = await loadBackend();
    const probe = await backend.probe();
    if (!probe.available) throw new Error(`backend ${backendName} is not available here: ${probe.reason ?? "no reason given"}${probe.fix ? ` (fix: ${probe.fix})` : ""}`);
    sandbox = await bootSandbox(backend, artifacts);
    console.log(`[nested-e2e] booted to agent hello in ${sandbox.bootMs} ms`);
  });

  // A failed scenario says what became of the machine: its state, how it ended, and the console tail.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail" || !sandbox) return;
    const stats = await sandbox.machine.stats().catch((e: Error) => ({ error: e.message }));
    const exit = sandbox.machine.state === "stopped" || sandbox.machine.state === "crashed" ? await sandbox.machine.wait() : undefined;
    console.error(`[nested-e2e] after the failure: machine ${sandbox.machine.state}, stats ${JSON.stringify(stats)}, exit ${JSON.stringify(exit)}\nconsole tail:\n${consoleText(sandbox.spec).slice(-3000)}`);
  });

  afterAll(async () => {
    await sandbox?.dispose();
  });

  it("says hello: the agent answered as the guest with a protocol version", () => {
    expect(sandbox.client.peer.role).toBe("guest");
    expect(sandbox.client.peer.protocolVersion).toBeGreaterThanOrEqual(1);
  });

  it("runs uname -a and prints the guest kernel's release", async () => {
    const result = await sandbox.client.run(["uname", "-a"]);
    expect(result.code, result.stderr.toString()).toBe(0);
    const line = result.stdout.toString();
    expect(line).toMatch(/^Linux \S+ \S+/);
    if (artifacts.kernelRelease) expect(line).toContain(artifacts.kernelRelease);
    else expect(line).toMatch(/ 6\.1\.\d+/);
  });

  it("round-trips 10 MiB through cat intact", async () => {
    const input = randomBytes(10 << 20);
    const result = await sandbox.client.run(["cat"], { input });
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(input.length);
    expect(sha256(result.stdout)).toBe(sha256(input));
  });

  it("reports non-zero exit codes and signals", async () => {
    expect((await sandbox.client.run(["sh", "-c", "exit 7"])).code).toBe(7);
    const selfKilled = await sandbox.client.run(["sh", "-c", "kill -KILL $$"]);
    expect(selfKilled).toMatchObject({ code: null, signal: "SIGKILL" });
    const sleeper = sandbox.client.exec({ argv: ["sleep", "1000"], stdin: false });
    await sleeper.pid;
    await sleeper.kill("SIGTERM");
    expect(await sleeper.exit).toEqual({ code: null, signal: "SIGTERM" });
  });

  it("puts and gets a 5 MiB file, hash checked", async () => {
    const data = randomBytes(5 << 20);
    const stat = await sandbox.client.files.put("/tmp/e2e-blob", data);
    expect(stat.size).toBe(data.length);
    const back = await sandbox.client.files.readFile("/tmp/e2e-blob");
    expect(sha256(back)).toBe(sha256(data));
    const inGuest = await sandbox.client.run(["sha256sum", "/tmp/e2e-blob"]);
    expect(inGuest.stdout.toString().split(" ")[0]).toBe(sha256(data));
  });

  it("runs two sandboxes at once, each its own kernel", async () => {
    const second = await bootSandbox(backend, artifacts);
    try {
      const [a, b] = await Promise.all([sandbox.client.run(["cat", "/proc/sys/kernel/random/boot_id"]), second.client.run(["cat", "/proc/sys/kernel/random/boot_id"])]);
      expect(a.code).toBe(0);
      expect(b.code).toBe(0);
      expect(a.stdout.toString().trim()).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.stdout.toString()).not.toBe(b.stdout.toString());
    } finally {
      await second.dispose();
    }
  });

  it("stops gracefully and kills by force, leaving no process or socket behind", async () => {
    // moat's VMM has no ACPI power button: the agent is asked over RPC, then stop() waits for the guest.
    await sandbox.client.shutdown({ poweroff: true });
    const graceful = await sandbox.machine.stop({ graceful: true, timeoutMs: 60_000 });
    expect(["poweroff", "reboot"]).toContain(graceful.reason);
    expect(sandbox.machine.state).toBe("stopped");

    const victim = await bootSandbox(backend, artifacts);
    try {
      const killed = await victim.machine.kill();
      expect(killed.reason).toBe("killed");
      expect(existsSync(victim.spec.vsock!.udsPath)).toBe(false);
    } finally {
      await victim.dispose();
    }
    expect(existsSync(sandbox.spec.vsock!.udsPath)).toBe(false);
    expect(childPids().filter((pid) => !childrenBefore.includes(pid))).toEqual([]);
  });
});
