import { registerBackend } from "../../src/backends/index.js";
import { Sandbox, SandboxErrorCode, isSandboxError } from "../../src/index.js";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { type HostAgent, agentHostAvailable, AGENT_HOST_BINARY, hostAgentBackend, startHostAgent } from "./host-agent.js";

const available = agentHostAvailable();
if (!available) console.warn(`skipping Sandbox API tests: ${AGENT_HOST_BINARY} is not built (make -C guest/agent)`);

describe.skipIf(!available)("Sandbox API against the real agent (host mode, in-process machine)", () => {
  let dir: string;
  let agent: HostAgent;
  let env: NodeJS.ProcessEnv;
  let unregister: () => void;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "moat-core-"));
    agent = await startHostAgent(dir);
    unregister = registerBackend("hostagent", () => hostAgentBackend("hostagent", agent.socketPath));
    await writeFile(join(dir, "vmlinux"), "not a real kernel: the host-agent backend boots nothing");
    await writeFile(join(dir, "base.erofs"), "");
    env = {
      ...process.env,
      MOAT_STATE_DIR: join(dir, "state"),
      MOAT_RUNTIME_DIR: join(dir, "run"),
      MOAT_KERNEL: join(dir, "vmlinux"),
      MOAT_IMAGE_DIR: dir,
    };
  });

  afterAll(async () => {
    unregister?.();
    agent?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("create → exec streams output and exit code → files → stop → list → remove", async () => {
    const sb = await Sandbox.create({ name: "dev", backend: "hostagent", inProcess: true, env, guestEnv: { GREETING: "hello" } });
    expect(sb.status).toBe("running");

    const proc = await sb.exec(["sh", "-c", 'echo "$GREETING from $0"; echo oops >&2; exit 3']);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on("data", (d: Buffer) => out.push(d));
    proc.stderr.on("data", (d: Buffer) => err.push(d));
    expect(await proc.exit).toEqual({ code: 3, signal: null });
    expect(Buffer.concat(out).toString()).toBe("hello from sh\n");
    expect(Buffer.concat(err).toString()).toBe("oops\n");

    const file = join(dir, "hello.txt");
    await sb.files.write(file, "contents\n");
    expect((await sb.files.read(file)).toString()).toBe("contents\n");
    expect((await sb.files.list(dir)).map((e) => e.name)).toContain("hello.txt");

    const listed = await Sandbox.list({ env });
    expect(listed.map((l) => [l.name, l.record?.status])).toEqual([["dev", "running"]]);

    expect(await sb.stop({ timeoutMs: 2_000 })).toBe(true);
    expect(sb.status).toBe("stopped");
    expect(await sb.stop()).toBe(false); // already down: left as it is, like docker stop
    expect(sb.status).toBe("stopped");
    await expect(sb.exec(["true"])).rejects.toMatchObject({ code: SandboxErrorCode.NOT_RUNNING, message: 'sandbox "dev" is not running (stopped)' });

    await sb.remove();
    expect(await Sandbox.list({ env })).toEqual([]);
  });

  test("a taken name, an unknown name and a bad name are typed errors with a fix", async () => {
    await Sandbox.create({ name: "taken", backend: "hostagent", env, start: false });
    const again = Sandbox.create({ name: "taken", backend: "hostagent", env, start: false });
    await expect(again).rejects.toMatchObject({ code: SandboxErrorCode.NAME_TAKEN, fix: "pick another name, or remove it first: moat rm taken (moat rm --force taken if moat ls says it is broken)" });
    await expect(Sandbox.get("nope", { env })).rejects.toMatchObject({ code: SandboxErrorCode.NOT_FOUND, message: 'no sandbox named "nope"' });
    await expect(Sandbox.get("../etc", { env })).rejects.toMatchObject({ code: SandboxErrorCode.INVALID_NAME });
    await (await Sandbox.get("taken", { env })).remove();
  });

  test("a broken state file is reported and quarantined, not deleted", async () => {
    await Sandbox.create({ name: "broken", backend: "hostagent", env, start: false });
    const recordPath = join(env.MOAT_STATE_DIR!, "sandboxes", "broken", "sandbox.json");
    await writeFile(recordPath, "{ not json");
    const err = await Sandbox.get("broken", { env }).catch((e: unknown) => e);
    expect(isSandboxError(err, SandboxErrorCode.BROKEN_STATE)).toBe(true);
    const files = await readdir(join(env.MOAT_STATE_DIR!, "sandboxes", "broken"));
    const quarantined = files.find((f) => f.startsWith("sandbox.json.broken-"));
    expect(quarantined).toBeDefined();
    expect(await readFile(join(env.MOAT_STATE_DIR!, "sandboxes", "broken", quarantined!), "utf8")).toBe("{ not json");
    const listed = await Sandbox.list({ env });
    expect(listed.find((l) => l.name === "broken")?.broken).toMatch(/no sandbox.json/);
    // Once quarantined it stays broken (not "no sandbox named"), so rm --force can still find it.
    await expect(Sandbox.get("broken", { env })).rejects.toMatchObject({ code: SandboxErrorCode.BROKEN_STATE, fix: expect.stringContaining("moat rm --force broken") });
    await expect(Sandbox.create({ name: "broken", backend: "hostagent", env, start: false })).rejects.toMatchObject({
      code: SandboxErrorCode.NAME_TAKEN,
      fix: expect.stringContaining("moat rm --force broken"),
    });
    await Sandbox.removeBroken("broken", { env });
    await expect(Sandbox.get("broken", { env })).rejects.toMatchObject({ code: SandboxErrorCode.NOT_FOUND });
  });

  test("a running sandbox whose host process is gone shows as crashed", async () => {
    await Sandbox.create({ name: "ghost", backend: "hostagent", env, start: false });
    const recordPath = join(env.MOAT_STATE_DIR!, "sandboxes", "ghost", "sandbox.json");
    const record = JSON.parse(await readFile(recordPath, "utf8"));
    await writeFile(recordPath, JSON.stringify({ ...record, status: "running", hostPid: 2 ** 22 + 12345 }));
    const sb = await Sandbox.get("ghost", { env });
    expect(sb.status).toBe("crashed");
    expect(sb.record.lastExit?.detail).toMatch(/VMM host process \(pid \d+\) is gone/);
    await sb.remove();
  });

  test("a policy that does not hold refuses to create anything, naming the problem and its position", async () => {
    const ws = join(dir, "project");
    await mkdir(join(ws, ".moat"), { recursive: true });
    await writeFile(join(ws, ".moat", "policy.yaml"), "version: 1\nnetwork:\n  allow:\n    - 10.0.0.0/33\n");
    const err = await Sandbox.create({ name: "refused", backend: "hostagent", env, workspace: ws, start: false }).catch((e: unknown) => e);
    expect(isSandboxError(err, SandboxErrorCode.POLICY_VIOLATION)).toBe(true);
    expect((err as Error).message).toMatch(/policy\.yaml:4:\d+/);
    expect((await Sandbox.list({ env })).find((l) => l.name === "refused")).toBeUndefined();
  });

  test("the writable disk has the policy's resources.disk size (built-in 10 GiB, a --disk flag over it)", async () => {
    const sizeOf = async (name: string) => (await stat(join(env.MOAT_STATE_DIR!, "sandboxes", name, "rw.img"))).size;
    const plain = await Sandbox.create({ name: "disk-default", backend: "hostagent", env, start: false });
    expect(await sizeOf("disk-default")).toBe(10 * 1024 ** 3);
    const flagged = await Sandbox.create({ name: "disk-flag", backend: "hostagent", env, start: false, policyFlags: { disk: "3GiB" } });
    expect(await sizeOf("disk-flag")).toBe(3 * 1024 ** 3);
    await plain.remove();
    await flagged.remove();
  });

  test("exec runs in the workspace's path while the guest has it, and in the agent's directory once it is gone", async () => {
    const ws = join(dir, "vanishing-workspace");
    await mkdir(ws);
    // The first test powered the shared agent off: this one has its own.
    const own = await startHostAgent(await mkdtemp(join(dir, "agent-")));
    const unregisterOwn = registerBackend("hostagent-ws", () => hostAgentBackend("hostagent-ws", own.socketPath));
    onTestFinished(() => {
      unregisterOwn();
      own.stop();
    });
    const sb = await Sandbox.create({ name: "ws", backend: "hostagent-ws", inProcess: true, env, workspace: ws });
    const pwd = async () => {
      const proc = await sb.exec(["pwd"]);
      const out: Buffer[] = [];
      proc.stdout.on("data", (d: Buffer) => out.push(d));
      return { code: (await proc.exit).code, out: Buffer.concat(out).toString() };
    };
    expect(await pwd()).toEqual({ code: 0, out: `${ws}\n` });
    await rm(ws, { recursive: true }); // as a workspace under the guest's /tmp (a tmpfs) is after a restart
    const after = await pwd();
    expect(after.code).toBe(0);
    expect(after.out).not.toBe(`${ws}\n`);
    await sb.remove({ force: true });
  });

  test("a policy file that does not hold refuses the sandbox before anything is made, and the fix names that file", async () => {
    const ws = join(dir, "refused-project");
    await mkdir(join(ws, ".moat"), { recursive: true });
    const policyFile = join(ws, ".moat", "policy.yaml");
    await writeFile(policyFile, "network:\n  default: sometimes\n");
    await expect(Sandbox.create({ name: "refused", env, workspace: ws, start: false })).rejects.toMatchObject({
      code: SandboxErrorCode.POLICY_VIOLATION,
      fix: `correct ${policyFile} as the hint above says (moat policy check ${policyFile} explains each problem)`,
    });
    expect((await Sandbox.list({ env })).map((l) => l.name)).not.toContain("refused");
  });

  test("bad options name the value", async () => {
    await expect(Sandbox.create({ name: "x", cpus: 0, env, start: false })).rejects.toMatchObject({
      message: "cpus must be a whole number from 1 to 64 (got 0)",
      fix: "ask for 1 to 64 CPUs (with --cpus, or resources.cpus in the policy)",
    });
    await expect(Sandbox.create({ name: "x", memoryMiB: 64, env, start: false })).rejects.toThrow("memory must be a whole number of MiB from 128 to 1048576 (got 64)");
    const hostMiB = Math.floor(totalmem() / (1 << 20));
    await expect(Sandbox.create({ name: "x", memoryMiB: hostMiB + 1, env, start: false })).rejects.toMatchObject({
      message: `memory ${hostMiB + 1} MiB is more than this host has (${hostMiB} MiB)`,
    });
    // A unit mix-up (bytes, or G for M) is refused here, not deep in the VMM's spec check.
    await expect(Sandbox.create({ name: "x", memoryMiB: 100_000 * 1024, env, start: false })).rejects.toMatchObject({
      message: "memory must be a whole number of MiB from 128 to 1048576 (got 102400000)",
      fix: "ask for 128M to 1024G (with --memory, or resources.memory in the policy)",
    });
  });
});
