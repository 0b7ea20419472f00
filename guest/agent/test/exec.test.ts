/**
 * exec over the real @moat/rpc client against the host-mode agent: round trips with hash checks,
 * exit codes, signals, a missing binary, pty mode, a stdout flood with a slow reader, deadlines,
 * cancellation and many concurrent execs.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcError, type RpcClient } from "@moat/rpc";
import { agentBinaries, startAgent, type RunningAgent } from "./agent-harness.js";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

/** True while pid exists and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function collect(r: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of r) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

describe.each(agentBinaries())("exec ($name build)", ({ path }) => {
  let agent: RunningAgent;
  let client: RpcClient;
  beforeAll(async () => {
    agent = await startAgent(path);
    client = await agent.client();
  });
  afterAll(async () => {
    const code = await agent.stop();
    // A sanitizer report makes the agent exit non-zero (66 leak/ASan, 67 UBSan).
    expect(code, agent.stderr()).toBe(0);
  });

  it("announces itself in HELLO and answers health", async () => {
    expect(client.peer.role).toBe("guest");
    expect(client.peer.protocolVersion).toBe(1);
    expect(client.peer.softwareVersion).toMatch(/^moat-agent\/\d+\.\d+\.\d+/);
    expect(client.peer.capabilities).toEqual(expect.arrayContaining(["exec", "exec.tty", "files", "health", "shutdown"]));
    const h = await client.health();
    expect(h.memTotalBytes).toBeGreaterThan(0);
    expect(h.uptimeMs).toBeGreaterThan(0);
    expect(h.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("runs echo and reports exit codes", async () => {
    const r = await client.run(["echo", "hello", "world"], {});
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stdout.toString()).toBe("hello world\n");
    expect((await client.run(["sh", "-c", "echo oops >&2; exit 3"])).code).toBe(3);
    const e = await client.run(["sh", "-c", "echo oops >&2; exit 3"]);
    expect(e.stderr.toString()).toBe("oops\n");
    expect((await client.run(["false"])).code).toBe(1);
  });

  it("round-trips 4 MiB through cat with the same hash", async () => {
    const input = randomBytes(4 * 1024 * 1024);
    const r = await client.run(["cat"], { input });
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(sha256(r.stdout)).toBe(sha256(input));
    const sum = await client.run(["sha256sum"], { input });
    expect(sum.stdout.toString().split(" ")[0]).toBe(sha256(input));
  });

  it("passes env, cwd and user", async () => {
    const r = await client.run(["sh", "-c", 'echo "$MOAT_X|$(pwd)|$(id -u):$(id -g)"'], {
      env: { MOAT_X: "first", OTHER: "y" },
      cwd: "/tmp",
      uid: 65534,
      gid: 65534,
    });
    expect(r.stdout.toString()).toBe("first|/tmp|65534:65534\n");
    const later = await client.run(["sh", "-c", 'echo "$MOAT_X"'], { env: ["MOAT_X=a", "MOAT_X=b"] });
    expect(later.stdout.toString()).toBe("b\n");
  });

  it("gives /dev/null as stdin when stdin is not open", async () => {
    const r = await client.run(["sh", "-c", "cat; readlink /proc/self/fd/0"], {});
    expect(r.stdout.toString()).toBe("/dev/null\n");
  });

  it("reports a missing binary as exit 127 with a message on stderr", async () => {
    const r = await client.run(["/nonexistent/moat-no-such-binary", "x"]);
    expect(r.code).toBe(127);
    expect(r.stderr.toString()).toContain("/nonexistent/moat-no-such-binary");
    expect(r.stderr.toString()).toContain("No such file or directory");
    const viaPath = await client.run(["moat-no-such-command-in-path"]);
    expect(viaPath.code).toBe(127);
    const plain = join(agent.dir, "not-executable");
    writeFileSync(plain, "data\n", { mode: 0o644 });
    const notExecutable = await client.run([plain]);
    expect(notExecutable.code).toBe(126);
    expect(notExecutable.stderr.toString()).toContain("Permission denied");
  });

  it("fails with SPAWN_FAILED naming the directory when cwd does not exist", async () => {
    await expect(client.run(["true"], { cwd: "/nonexistent-moat-dir" })).rejects.toMatchObject({
      code: "SPAWN_FAILED",
      errno: 2,
      message: expect.stringContaining("/nonexistent-moat-dir"),
    });
  });

  it("rejects an empty argv and malformed env with INVALID_ARGUMENT", async () => {
    const s = client.connection.open({ exec: { argv: [] } }, { fin: true });
    await expect(s.read()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const s2 = client.connection.open({ exec: { argv: ["true"], env: ["NOEQUALS"] } }, { fin: true });
    await expect(s2.read()).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("NOEQUALS") });
  });

  // Signals travel as DATA, so the host keeps its side open (stdin: true) to send them.
  it("delivers signals and reports death by signal", async () => {
    const p = client.exec({ argv: ["sleep", "30"] });
    const pid = await p.pid;
    expect(pid).toBeGreaterThan(1);
    await p.kill("SIGTERM");
    expect(await p.exit).toEqual({ code: null, signal: "SIGTERM" });
    const q = client.exec({ argv: ["sh", "-c", "trap 'exit 42' USR1; echo ready; while :; do sleep 0.05; done"] });
    const it = q.stdout[Symbol.asyncIterator]();
    expect(String((await it.next()).value)).toBe("ready\n");
    await q.kill("SIGUSR1");
    expect((await q.exit).code).toBe(42);
  });

  // `moat exec ... </dev/null` then Ctrl-C: stdin ends first, the signal must still arrive.
  it("delivers signals after stdin ended (StdinEof keeps the stream open)", async () => {
    expect(client.connection.peer.capabilities).toContain("exec.stdin_eof");
    const p = client.exec({ argv: ["sh", "-c", "cat >/dev/null; trap 'echo GOT-INT; exit 5' INT; echo ready; while :; do sleep 0.05; done"] });
    p.stdin.end(); // cat sees EOF, so the script reaches its trap
    const it = p.stdout[Symbol.asyncIterator]();
    expect(String((await it.next()).value)).toBe("ready\n");
    await p.kill("SIGINT");
    expect(String((await it.next()).value)).toBe("GOT-INT\n");
    expect(await p.exit).toEqual({ code: 5, signal: null });
  });

  it("answers a signal to an exited process with NOT_FOUND (ESRCH)", async () => {
    const s = client.connection.open({ exec: { argv: ["true"], stdinOpen: true } });
    const kinds: string[] = [];
    for (;;) {
      const m = await s.read();
      if (m === null) break;
      kinds.push(String(m.body));
    }
    expect(kinds).toEqual(["started", "exit"]);
    await s.send({ signal: { number: 15 } });
    await s.onFinish();
    expect(s.error).toBeInstanceOf(RpcError);
    expect(s.error).toMatchObject({ code: "NOT_FOUND", errno: 3, message: expect.stringContaining("already exited") });
  });

  it("runs on a pseudo-terminal with the requested size and resizes it", async () => {
    const r = await client.run(["sh", "-c", "tty; stty size"], { tty: true, rows: 33, cols: 111 });
    expect(r.code).toBe(0);
    const lines = r.stdout.toString().split(/\r?\n/);
    expect(lines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines[1]).toBe("33 111");
    expect(r.stderr.length).toBe(0);

    const p = client.exec({ argv: ["sh", "-c", "read line; stty size; echo got:$line"], tty: true, rows: 10, cols: 20 });
    const out = collect(p.stdout);
    await p.pid;
    await p.resize(50, 160);
    p.stdin.write("hello\n");
    const exit = await p.exit;
    expect(exit.code).toBe(0);
    const text = (await out).toString();
    expect(text).toContain("50 160");
    expect(text).toContain("got:hello");
  });

  it("keeps memory bounded under a stdout flood with a slow reader, and delivers every byte", async () => {
    const total = 64 * 1024 * 1024;
    const before = rssBytes(agent.proc.pid!);
    const p = client.exec({ argv: ["head", "-c", String(total), "/dev/zero"], stdin: false });
    await p.pid;
    // Nobody reads for a while: the writer must stall in the guest, not pile up in the agent.
    await sleep(1500);
    const stalled = rssBytes(agent.proc.pid!);
    expect((await client.health()).processes).toBe(1);
    let received = 0;
    let chunks = 0;
    for await (const chunk of p.stdout) {
      received += (chunk as Buffer).length;
      if (++chunks % 64 === 0) await sleep(5); // a slow reader
    }
    expect(received).toBe(total);
    expect((await p.exit).code).toBe(0);
    const after = rssBytes(agent.proc.pid!);
    console.log(`flood: agent RSS ${(before / 1048576).toFixed(1)} MiB before, ${(stalled / 1048576).toFixed(1)} MiB while stalled, ${(after / 1048576).toFixed(1)} MiB after 64 MiB`);
    expect(stalled - before).toBeLessThan(8 * 1024 * 1024);
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  });

  it("reports exit even when a background process keeps stdout open", async () => {
    // Without the drain grace the exit would wait for the background sleep (20 s) and the
    // deadline would fail the call.
    const r = await client.run(["sh", "-c", "sleep 20 & echo started"], { timeoutMs: 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe("started\n");
  });

  it("kills the process when the deadline passes", async () => {
    const p = client.exec({ argv: ["sleep", "30"], stdin: false, timeoutMs: 1000 });
    const pid = await p.pid;
    await expect(p.exit).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(20);
    expect(isAlive(pid)).toBe(false);
  });

  it("kills the process when the caller cancels", async () => {
    const ac = new AbortController();
    const p = client.exec({ argv: ["sleep", "30"], stdin: false, signal: ac.signal });
    const pid = await p.pid;
    ac.abort(new Error("user pressed ctrl-c"));
    await expect(p.exit).rejects.toMatchObject({ code: "CANCELLED" });
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(20);
    expect(isAlive(pid)).toBe(false);
  });

  it("runs 32 execs concurrently with their outputs kept apart", async () => {
    const runs = Array.from({ length: 32 }, (_, i) =>
      client.run(["sh", "-c", `head -c ${20000 + i} /dev/zero | tr '\\0' '${String.fromCharCode(97 + (i % 26))}'; exit ${i % 7}`], {}),
    );
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(r.code).toBe(i % 7);
      expect(r.stdout.length).toBe(20000 + i);
      expect(r.stdout.toString()).toBe(String.fromCharCode(97 + (i % 26)).repeat(20000 + i));
    });
    expect((await client.health()).processes).toBe(0);
  });
});
