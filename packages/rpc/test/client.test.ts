/** RpcClient against the Node reference agent over a real Unix socket: exec, files, health. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RpcError } from "../src/errors.js";
import { connectPair, waitFor, type Pair } from "./helpers.js";

let root: string;
let pair: Pair;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "moat-rpc-root-"));
  pair = await connectPair({ root });
});
afterEach(async () => {
  await pair.close();
  rmSync(root, { recursive: true, force: true });
});

describe("handshake", () => {
  it("learns the agent's version and capabilities", () => {
    expect(pair.client.peer.protocolVersion).toBe(1);
    expect(pair.client.peer.capabilities).toContain("exec");
    expect(pair.client.peer.role).toBe("guest");
  });
});

describe("exec", () => {
  it("runs a process and returns its output and exit code", async () => {
    const r = await pair.client.run(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r.stdout.toString()).toBe("out\n");
    expect(r.stderr.toString()).toBe("err\n");
    expect(r).toMatchObject({ code: 3, signal: null });
  });

  it("streams stdin to the process and honours half-close as EOF", async () => {
    const r = await pair.client.run(["sh", "-c", "wc -c; cat >/dev/null"], { input: Buffer.alloc(300_000, 7) });
    expect(r.stdout.toString().trim()).toBe("300000");
  });

  it("passes env and cwd", async () => {
    const r = await pair.client.run(["sh", "-c", 'echo "$FOO" && pwd'], { env: { FOO: "bar baz" }, cwd: "/" });
    expect(r.stdout.toString()).toBe(`bar baz\n${root}\n`);
  });

  it("reports a signal death by name", async () => {
    const p = pair.client.exec({ argv: ["sleep", "30"] });
    await p.pid;
    await p.kill("SIGTERM");
    await expect(p.exit).resolves.toEqual({ code: null, signal: "SIGTERM" });
  });

  it("signals a process started without stdin (the stream stays open for kill and resize)", async () => {
    const p = pair.client.exec({ argv: ["sleep", "30"], stdin: false });
    await p.pid;
    await p.kill("SIGKILL");
    await expect(p.exit).resolves.toEqual({ code: null, signal: "SIGKILL" });
  });

  it("rejects exit with SPAWN_FAILED and the errno when the program does not exist", async () => {
    const p = pair.client.exec({ argv: ["/nonexistent/program"] });
    const err = await p.exit.catch((e) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe("SPAWN_FAILED");
    expect(err.errno).toBe(2);
    expect(err.message).toContain("/nonexistent/program");
  });

  it("rejects bad arguments before anything is sent", () => {
    expect(() => pair.client.exec({ argv: [] })).toThrow(/argv must be a non-empty array/);
    expect(() => pair.client.exec({ argv: ["x"], env: ["NOEQUALS"] })).toThrow(/KEY=VALUE/);
    expect(() => pair.client.exec({ argv: ["x"], uid: -1 })).toThrow(/uid -1/);
  });
});

describe("files", () => {
  it("puts and gets a multi-chunk file", async () => {
    const data = Buffer.alloc(1_000_003);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const st = await pair.client.files.put("/a/b.bin", data, { mode: 0o600, makeParents: true });
    expect(st).toMatchObject({ size: data.length, mode: 0o600, type: "file" });
    expect(readFileSync(join(root, "a/b.bin")).equals(data)).toBe(true);
    expect((await pair.client.files.readFile("/a/b.bin")).equals(data)).toBe(true);
  });

  it("puts from a Readable and leaves no temporary file behind", async () => {
    await pair.client.files.put("/r.txt", Readable.from([Buffer.from("hello "), Buffer.from("world")]));
    expect(readFileSync(join(root, "r.txt"), "utf8")).toBe("hello world");
    expect(readdirSync(root)).toEqual(["r.txt"]);
  });

  it("aborting a put removes the temporary file", async () => {
    const ac = new AbortController();
    async function* slow() {
      yield Buffer.alloc(1000);
      ac.abort(new Error("user gave up"));
      yield Buffer.alloc(1000);
    }
    const err = await pair.client.files.put("/aborted.bin", slow(), { signal: ac.signal }).catch((e) => e);
    expect(err.code).toBe("CANCELLED");
    await waitFor(() => readdirSync(root).length === 0, 5000, "the agent removed its temporary file");
    expect(existsSync(join(root, "aborted.bin"))).toBe(false);
  });

  it("stat, list, mkdir, remove", async () => {
    await pair.client.files.mkdir("/d/e", { parents: true });
    writeFileSync(join(root, "d/f.txt"), "xyz");
    expect(await pair.client.files.stat("/d/f.txt")).toMatchObject({ type: "file", size: 3, name: "/d/f.txt" });
    const names = (await pair.client.files.list("/d")).map((e) => [e.name, e.type]);
    expect(names).toEqual([["e", "directory"], ["f.txt", "file"]]);
    const notEmpty = await pair.client.files.remove("/d").catch((e) => e);
    expect(notEmpty.code).toBe("NOT_EMPTY");
    await pair.client.files.remove("/d", { recursive: true });
    expect(existsSync(join(root, "d"))).toBe(false);
  });

  it("list stops at maxEntries with RESOURCE_EXHAUSTED", async () => {
    for (let i = 0; i < 10; i++) writeFileSync(join(root, `f${i}`), "");
    expect(await pair.client.files.list("/")).toHaveLength(10);
    const err = await pair.client.files.list("/", { maxEntries: 5 }).catch((e) => e);
    expect(err).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    expect(err.message).toMatch(/more than 5 entries/);
  });

  it("missing files fail with NOT_FOUND naming the path", async () => {
    const err = await pair.client.files.stat("/nope").catch((e) => e);
    expect(err).toMatchObject({ code: "NOT_FOUND", errno: 2 });
    expect(err.message).toContain("nope");
    const err2 = await pair.client.files.readFile("/nope").catch((e) => e);
    expect(err2.code).toBe("NOT_FOUND");
  });
});

describe("health", () => {
  it("reports uptime and memory", async () => {
    const h = await pair.client.health();
    expect(h.memTotalBytes).toBeGreaterThan(0);
    expect(h.agentVersion).toMatch(/node-agent/);
  });
});
