/**
 * The host half of the workspace copy, on real files and real archives, without a guest: what
 * copyWorkspaceIn would send (packWorkspace, inside and outside git) and what copyWorkspaceOut does
 * with an archive coming back (extractChanges), including hostile entries a guest could craft. The
 * guest half runs in packages/cli/test/e2e/sandbox-cli.e2e.test.ts.
 */
import { execFileSync } from "node:child_process";
import { link, lstat, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tar from "tar";
import { beforeEach, describe, expect, test } from "vitest";
import { type WorkspaceRules, workspaceRules } from "../../src/workspace/workspace-rules.js";
import { entryPath, extractChanges, packWorkspace } from "../../src/workspace/workspace-sync.js";
import { compiledMounts, tempBase } from "./policy-fixture.js";

const temp = tempBase("moat-ws-sync-");
let base: string;
let ws: string;

beforeEach(async () => {
  base = temp.current();
  ws = join(base, "ws");
  await mkdir(join(ws, ".moat"), { recursive: true });
  await writeFile(join(ws, ".moat", "policy.yaml"), 'version: 1\nfiles:\n  deny: ["sub/**"]\n');
});

function rules(): Promise<WorkspaceRules> {
  return workspaceRules(compiledMounts(base, ws), ws);
}

async function files(tree: Record<string, string>, root = ws): Promise<void> {
  for (const [path, text] of Object.entries(tree)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

async function entries(archive: AsyncIterable<Buffer>): Promise<string[]> {
  const names: string[] = [];
  const lister = new tar.Parser({ onReadEntry: (e) => (names.push(e.path.replace(/^\.\//, "").replace(/\/$/, "")), e.resume()) });
  for await (const chunk of archive) lister.write(chunk);
  lister.end();
  return names.filter((n) => n !== "" && n !== ".").sort();
}

/** A tar archive with the given raw entry paths (as a guest's tar could write them). */
async function rawArchive(list: Array<{ path: string; type?: "File" | "Directory" | "SymbolicLink"; body?: string; linkpath?: string }>): Promise<string> {
  const blocks: Buffer[] = [];
  for (const e of list) {
    const body = Buffer.from(e.body ?? "");
    const header = new tar.Header({ path: e.path, type: e.type ?? "File", mode: e.type === "Directory" ? 0o755 : 0o644, size: e.type === "File" || !e.type ? body.length : 0, mtime: new Date(), ...(e.linkpath ? { linkpath: e.linkpath } : {}) });
    const block = Buffer.alloc(512);
    header.encode(block);
    blocks.push(block);
    if (body.length > 0 && (e.type ?? "File") === "File") blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const file = join(base, "changed.tar");
  await writeFile(file, Buffer.concat(blocks));
  return file;
}

describe("copy-in (packWorkspace)", () => {
  test("outside git: hidden files and hidden directories (with their subtree) are not in the archive", async () => {
    await files({ "a.txt": "a", ".env": "SECRET=1", "deep/.env.local": "x", "deep/b.txt": "b", "sub/x": "x", "sub/deep/y": "y", ".git/hooks/pre-commit": "#!/bin/sh" });
    const packed = await packWorkspace(ws, await rules());
    expect(packed.files).toBe(-1);
    expect(await entries(packed.archive)).toEqual([".git", ".git/hooks", ".git/hooks/pre-commit", ".moat", ".moat/policy.yaml", "a.txt", "deep", "deep/b.txt"]);
    expect(packed.withheld()).toBe(3); // .env, deep/.env.local, sub (once, with its subtree)
  });

  test("in git: hidden paths are dropped from git's list", async () => {
    execFileSync("git", ["init", "-q", ws]);
    await files({ "a.txt": "a", ".env": "SECRET=1", "sub/x": "x", ".gitignore": "ignored.txt\n", "ignored.txt": "i" });
    const packed = await packWorkspace(ws, await rules());
    expect(await entries(packed.archive)).toEqual([".gitignore", ".moat/policy.yaml", "a.txt"]);
    expect(packed.files).toBe(3);
    expect(packed.withheld()).toBe(2); // .env and sub/x; ignored.txt was never listed
  });
});

describe("copy-out (extractChanges)", () => {
  test("only files the policy lets the guest change are written back; the rest is reported", async () => {
    const archive = await rawArchive([
      { path: "./ok.txt", body: "ok\n" },
      { path: "./new/dir/made.txt", body: "made\n" },
      { path: "./.git/hooks/post-checkout", body: "#!/bin/sh\necho pwned\n" },
      { path: "./.git/config", body: "[core]\n\tfsmonitor = evil\n" },
      { path: "./.moat/policy.yaml", body: "version: 1\n" },
      { path: "./.env", body: "SECRET=guess\n" },
      { path: "./sub/x", body: "x" },
      { path: "./sub/", type: "Directory" },
      { path: "./evil", type: "SymbolicLink", linkpath: "/etc/passwd" },
    ]);
    const refused = await extractChanges(archive, ws, await rules());
    expect(refused).toEqual([".git/hooks/post-checkout", ".git/config", ".moat/policy.yaml", ".env", "sub/x", "sub"]);
    expect(await readFile(join(ws, "ok.txt"), "utf8")).toBe("ok\n");
    expect(await readFile(join(ws, "new/dir/made.txt"), "utf8")).toBe("made\n");
    expect(await readFile(join(ws, ".moat/policy.yaml"), "utf8")).toBe('version: 1\nfiles:\n  deny: ["sub/**"]\n');
    for (const p of [".git", ".env", "sub", "evil"]) await expect(lstat(join(ws, p)), p).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("paths that are not plain relative paths are refused, whatever node-tar would make of them", async () => {
    const hostile = ["/.git/hooks/post-merge", "c:/.git/hooks/post-merge", "c:.moat/policy.yaml", ".//.git/hooks/pre-push", "a/../.git/hooks/pre-commit"];
    const archive = await rawArchive([...hostile.map((path) => ({ path, body: "x" })), { path: "plain.txt", body: "plain\n" }]);
    expect(await extractChanges(archive, ws, await rules())).toEqual(hostile);
    expect(await readFile(join(ws, "plain.txt"), "utf8")).toBe("plain\n");
    await expect(lstat(join(ws, ".git"))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await readFile(join(ws, ".moat/policy.yaml"), "utf8")).startsWith("version: 1\nfiles:")).toBe(true);
  });

  // node-tar 7 already unlinks a multiply-linked file before writing; `unlink: true` makes that
  // unconditional, and this pins the outcome whichever way it is reached.
  test("a host file with another hard link is replaced, not written through", async () => {
    await files({ "orig.txt": "outside\n" }, join(base, "outside"));
    await link(join(base, "outside", "orig.txt"), join(ws, "linked.txt"));
    const archive = await rawArchive([{ path: "./linked.txt", body: "from the guest\n" }]);
    expect(await extractChanges(archive, ws, await rules())).toEqual([]);
    expect(await readFile(join(ws, "linked.txt"), "utf8")).toBe("from the guest\n");
    expect(await readFile(join(base, "outside", "orig.txt"), "utf8")).toBe("outside\n");
    expect((await stat(join(ws, "linked.txt"))).nlink).toBe(1);
  });
});

test("entryPath: ./ prefixes and trailing slashes go; anything else that is not plain is undefined", () => {
  expect(entryPath("./a/b")).toBe("a/b");
  expect(entryPath("./d/")).toBe("d");
  expect(entryPath("a")).toBe("a");
  expect(entryPath(".")).toBe("");
  expect(entryPath("./")).toBe("");
  for (const p of ["/a", "//a", "c:/a", "c:a", "\\\\srv\\share\\a", "a//b", "a/./b", "a/../b", ".."]) expect(entryPath(p), p).toBeUndefined();
});
