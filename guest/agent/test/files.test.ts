/**
 * File calls over the real @moat/rpc client against the host-mode agent: put/get with hash checks,
 * stat, list, mkdir, remove, and the defined failures (read-only path, missing file, directory,
 * relative path, cancelled upload leaving nothing behind).
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RpcClient } from "@moat/rpc";
import { agentBinaries, startAgent, type RunningAgent } from "./agent-harness.js";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A read-only tmpfs for the "put to a read-only path" case; null (with the reason) when mount is not allowed. */
function readOnlyMount(dir: string): { path: string | null; reason: string } {
  const path = join(dir, "ro");
  mkdirSync(path);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "moat-ro-test", path], { stdio: "pipe" });
    return { path, reason: "" };
  } catch (err) {
    return { path: null, reason: `cannot mount a read-only tmpfs here (${String((err as Error).message).split("\n")[0]}); needs root with CAP_SYS_ADMIN` };
  }
}

describe.each(agentBinaries())("files ($name build)", ({ path: binary }) => {
  let agent: RunningAgent;
  let client: RpcClient;
  let root: string;
  beforeAll(async () => {
    agent = await startAgent(binary);
    client = await agent.client();
    root = join(agent.dir, "files");
    mkdirSync(root);
  });
  afterAll(async () => {
    try {
      execFileSync("umount", [join(agent.dir, "ro")], { stdio: "ignore" });
    } catch {
      // not mounted
    }
    expect(await agent.stop(), agent.stderr()).toBe(0);
  });

  it("puts and gets 3 MiB with the same hash, mode and mtime", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const target = join(root, "blob.bin");
    const mtime = new Date("2024-05-06T07:08:09.000Z");
    const info = await client.files.put(target, data, { mode: 0o600, mtime });
    expect(info).toMatchObject({ type: "file", size: data.length, mode: 0o600 });
    expect(sha256(readFileSync(target))).toBe(sha256(data));
    expect(statSync(target).mode & 0o7777).toBe(0o600);
    expect(statSync(target).mtime.getTime()).toBe(mtime.getTime());
    const back = await client.files.readFile(target);
    expect(sha256(back)).toBe(sha256(data));
    const part = await (async () => {
      const parts: Buffer[] = [];
      for await (const c of client.files.get(target, { offset: 1000, length: 70000 })) parts.push(c as Buffer);
      return Buffer.concat(parts);
    })();
    expect(part.equals(data.subarray(1000, 71000))).toBe(true);
  });

  it("puts from a stream, creating parents, and leaves no temporary files", async () => {
    const dir = join(root, "deep/er/dir");
    const pieces = [Buffer.from("one "), Buffer.from("two "), Buffer.from("three")];
    await client.files.put(join(dir, "streamed.txt"), Readable.from(pieces), { makeParents: true });
    expect(readFileSync(join(dir, "streamed.txt"), "utf8")).toBe("one two three");
    expect(readdirSync(dir)).toEqual(["streamed.txt"]);
    const empty = await client.files.put(join(root, "empty"), Buffer.alloc(0));
    expect(empty.size).toBe(0);
  });

  it("stats files, directories and symlinks", async () => {
    writeFileSync(join(root, "s.txt"), "12345");
    symlinkSync("s.txt", join(root, "link"));
    const st = await client.files.stat(join(root, "s.txt"));
    expect(st).toMatchObject({ type: "file", size: 5, name: join(root, "s.txt") });
    expect(Math.abs(st.mtime.getTime() - statSync(join(root, "s.txt")).mtimeMs)).toBeLessThan(2);
    expect((await client.files.stat(root)).type).toBe("directory");
    expect(await client.files.stat(join(root, "link"), { noFollow: true })).toMatchObject({ type: "symlink", linkTarget: "s.txt" });
    expect((await client.files.stat(join(root, "link"))).type).toBe("file");
  });

  it("lists a directory, in batches when it is large", async () => {
    const big = join(root, "many");
    mkdirSync(big);
    for (let i = 0; i < 1500; i++) writeFileSync(join(big, `file-${String(i).padStart(4, "0")}-${"x".repeat(40)}`), String(i));
    const entries = await client.files.list(big);
    expect(entries.length).toBe(1500);
    expect(new Set(entries.map((e) => e.name)).size).toBe(1500);
    expect(entries.every((e) => e.type === "file")).toBe(true);
    const small = await client.files.list(root);
    expect(small.map((e) => e.name)).toEqual(expect.arrayContaining(["s.txt", "link", "many", "blob.bin"]));
    expect(small.find((e) => e.name === "link")).toMatchObject({ type: "symlink", linkTarget: "s.txt" });
  });

  it("makes directories (with parents) and removes trees", async () => {
    const d = join(root, "mk/a/b");
    await client.files.mkdir(d, { parents: true, mode: 0o750 });
    expect(statSync(d).isDirectory()).toBe(true);
    expect(statSync(d).mode & 0o777).toBe(0o750);
    await client.files.mkdir(d, { parents: true }); // exists: fine with parents
    await expect(client.files.mkdir(d)).rejects.toMatchObject({ code: "ALREADY_EXISTS", errno: 17 });
    await expect(client.files.mkdir(join(root, "nope/x"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    writeFileSync(join(d, "f"), "x");
    symlinkSync("/etc", join(d, "escape"));
    await expect(client.files.remove(join(root, "mk"))).rejects.toMatchObject({ code: "NOT_EMPTY", errno: 39 });
    await client.files.remove(join(root, "mk"), { recursive: true });
    expect(existsSync(join(root, "mk"))).toBe(false);
    expect(existsSync("/etc/hostname") || existsSync("/etc/passwd")).toBe(true); // the symlink was removed, not followed
    await expect(client.files.remove(join(root, "mk"))).rejects.toMatchObject({ code: "NOT_FOUND", errno: 2 });
  });

  it("fails with clear errors for missing files, directories and relative paths", async () => {
    await expect(client.files.stat(join(root, "missing"))).rejects.toMatchObject({
      code: "NOT_FOUND",
      errno: 2,
      message: expect.stringContaining(join(root, "missing")),
    });
    await expect(client.files.readFile(join(root, "missing"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(client.files.readFile(root)).rejects.toMatchObject({ code: "IS_A_DIRECTORY" });
    await expect(client.files.put(root, "x")).rejects.toMatchObject({ code: "IS_A_DIRECTORY" });
    await expect(client.files.list(join(root, "s.txt"))).rejects.toMatchObject({ code: "NOT_A_DIRECTORY" });
    // The client refuses relative paths itself; the agent does too when a raw OPEN carries one.
    const s = client.connection.open({ stat: { path: "relative/path" } }, { fin: true });
    await expect(s.read()).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("relative/path") });
  });

  it("refuses a put to a read-only path with PERMISSION_DENIED and leaves nothing behind", async (ctx) => {
    const ro = readOnlyMount(agent.dir);
    if (!ro.path) {
      console.log(`skipped: ${ro.reason}`);
      ctx.skip();
      return;
    }
    await expect(client.files.put(join(ro.path, "x.txt"), "data")).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      errno: 30,
      message: expect.stringMatching(/put .*x\.txt: Read-only file system/),
    });
    expect(readdirSync(ro.path)).toEqual([]);
  });

  it("removes the temporary file when an upload is cancelled", async () => {
    const dir = join(root, "cancel");
    mkdirSync(dir);
    const ac = new AbortController();
    async function* source() {
      yield randomBytes(200_000);
      ac.abort(new Error("stop"));
      await new Promise((r) => setTimeout(r, 50));
      yield randomBytes(10);
    }
    await expect(client.files.put(join(dir, "partial.bin"), source(), { signal: ac.signal })).rejects.toBeTruthy();
    for (let i = 0; i < 50 && readdirSync(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(dir)).toEqual([]);
  });
});
