/**
 * new-writable-disk.sh: makes a sparse raw ext4 file fast, refuses bad sizes and existing paths with
 * messages naming the value, and never leaves a half-made file behind.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { repoRoot } from "./artifacts.js";

const script = join(repoRoot, "guest/image/new-writable-disk.sh");
const work = mkdtempSync(join(tmpdir(), "moat-disk-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(script, args, { encoding: "utf8" });
}

describe("new-writable-disk.sh", () => {
  test("makes a sparse 4 GiB ext4 disk (default size) labelled moat-rw", () => {
    const path = join(work, "default.img");
    const r = run(path);
    expect(r.status, r.stderr).toBe(0);
    const st = statSync(path);
    expect(st.size).toBe(4 * 1024 ** 3);
    expect(st.blocks * 512, "allocated bytes: the file must be sparse").toBeLessThan(64 * 1024 ** 2);
    const fsck = spawnSync("e2fsck", ["-fn", path], { encoding: "utf8" });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    const info = spawnSync("dumpe2fs", ["-h", path], { encoding: "utf8" });
    expect(info.stdout).toMatch(/Filesystem volume name:\s+moat-rw/);
    expect(info.stdout).toMatch(/Reserved block count:\s+0$/m);
    expect(info.stdout).toMatch(/Filesystem features:.*has_journal.*extent/);
  });

  test("honours SIZE with a suffix", () => {
    const path = join(work, "small.img");
    const r = run(path, "64M");
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(path).size).toBe(64 * 1024 ** 2);
  });

  test.each([["3Q"], ["abc"], ["G"], ["1M"], [""]])("rejects SIZE %j, naming it", (size) => {
    const path = join(work, `bad-${size || "empty"}.img`);
    const r = run(path, size);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`'${size}'`);
    expect(readdirSync(work).filter((f) => f.startsWith(`bad-${size || "empty"}.img`))).toEqual([]);
  });

  test("refuses to overwrite an existing file, which stays untouched", () => {
    const path = join(work, "existing.img");
    writeFileSync(path, "precious");
    const r = run(path, "64M");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/already exists/);
    expect(statSync(path).size).toBe("precious".length);
  });

  test("names a missing directory", () => {
    const r = run(join(work, "no-such-dir", "x.img"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-dir.*does not exist/);
  });

  test("prints usage without arguments", () => {
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/usage: new-writable-disk.sh PATH \[SIZE\]/);
  });
});
