/**
 * Workspace copy-in/copy-out: until live sharing (virtio-fs) lands, `moat run` makes the host
 * workspace available in the guest at the same absolute path by streaming a tar archive into the
 * guest's `tar -x`, and brings back the files the command created or changed (newer than the copy-in
 * stamp) from the guest's `tar -c`. Deletions in the guest are not mirrored to the host.
 *
 * Both directions apply the sandbox's file policy (`WorkspaceRules`, from the compiled plan's mount
 * that covers the workspace): paths it hides (`.env` files by default, `files.deny`) are never sent
 * to the guest, a hidden directory with all it contains; changes to hidden or read-only paths
 * (`.git/hooks/**`, `.git/config`, `.moat/**` by default, `files.readonly`, everything under a `ro`
 * mount) are not written back and are reported to the caller instead.
 *
 * The archive coming back is untrusted guest output: it lands in a host temp file first (a guest
 * that fails half-way changes nothing), only regular files and directories are extracted, only at
 * plain relative paths the policy lets the guest write, with node-tar's path checks (no absolute
 * paths, no "..", no extraction through symlinks), and every file is unlinked before it is written,
 * so a host file with other hard links is replaced rather than written through.
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix, win32 } from "node:path";
import { promisify } from "node:util";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { Sandbox } from "../sandbox/sandbox.js";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";
import type { WorkspaceRules } from "./workspace-rules.js";

const run = promisify(execFile);
const STAMP = "/run/moat/workspace.stamp";

/** Files to copy: git's view of the worktree (tracked + untracked, not ignored) or everything. */
export async function workspaceFiles(dir: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await run("git", ["-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { maxBuffer: 256 * 1024 * 1024 });
    return stdout.split("\0").filter(Boolean);
  } catch {
    return undefined; // not a git worktree: copy the whole directory
  }
}

/**
 * A tar entry path as a plain workspace-relative path ("./a/b/" → "a/b", "." → ""), or undefined
 * when it is anything else (absolute, a drive or UNC root, "." or ".." parts, empty parts): the
 * guest's `find .` never produces those, and node-tar would rewrite some of them (stripping a root)
 * to a path other than the one the policy would have been asked about.
 */
export function entryPath(path: string): string | undefined {
  const p = path.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  if (p === "" || p === ".") return "";
  if (win32.parse(p).root !== "" || posix.isAbsolute(p)) return undefined;
  return p.split("/").some((part) => part === "" || part === "." || part === "..") ? undefined : p;
}

/** The archive copyWorkspaceIn sends: the workspace without the paths the policy hides. */
export async function packWorkspace(dir: string, rules: WorkspaceRules): Promise<{ archive: tar.Pack; files: number; withheld: () => number }> {
  const listed = await workspaceFiles(dir);
  const list = listed?.filter((p) => !rules.isHidden(entryPath(p) ?? p));
  let withheld = (listed?.length ?? 0) - (list?.length ?? 0);
  // Without git's list node-tar walks the tree; refusing a directory here skips its whole subtree.
  const filter = (path: string): boolean => {
    const rel = entryPath(path);
    if (rel !== undefined && !rules.isHidden(rel)) return true;
    withheld++;
    return false;
  };
  const archive = tar.create({ cwd: dir, portable: true, follow: false, noDirRecurse: list !== undefined, filter }, list ?? ["."]);
  return { archive, files: list?.length ?? -1, withheld: () => withheld };
}

async function runChecked(sandbox: Sandbox, argv: string[], stdin?: Readable, stdout?: NodeJS.WritableStream): Promise<void> {
  const proc = await sandbox.exec(argv, { stdin: stdin !== undefined, cwd: "/" }); // the workspace may not exist yet
  const stderr: Buffer[] = [];
  proc.stderr.on("data", (d: Buffer) => stderr.push(d));
  const feeding = stdin ? pipeline(stdin, proc.stdin) : Promise.resolve();
  const draining = stdout ? pipeline(proc.stdout, stdout) : (proc.stdout.resume(), Promise.resolve());
  const [exit] = await Promise.all([proc.exit, feeding, draining]);
  if (exit.code !== 0) {
    throw new SandboxError(SandboxErrorCode.START_FAILED, `workspace sync: \`${argv.join(" ")}\` failed in the guest (${exit.code ?? exit.signal}): ${Buffer.concat(stderr).toString().trim()}`);
  }
}

/**
 * Copies the workspace into the guest at the same path, except what the policy hides. `files` is
 * the number of files sent from git's list (-1: the whole directory, outside git); `withheld` the
 * number of paths held back (a hidden directory counts once).
 */
export async function copyWorkspaceIn(sandbox: Sandbox, dir: string, rules: WorkspaceRules): Promise<{ files: number; withheld: number }> {
  const { archive, files, withheld } = await packWorkspace(dir, rules);
  await runChecked(sandbox, ["sh", "-c", 'mkdir -p "$1" && tar -x -f - -C "$1" --no-same-owner', "sh", dir], Readable.from(archive as unknown as AsyncIterable<Buffer>));
  await runChecked(sandbox, ["sh", "-c", `mkdir -p /run/moat && touch ${STAMP}`]);
  return { files, withheld: withheld() };
}

/**
 * Extracts a returned archive into `dir`: regular files and directories only, and only at paths
 * the policy lets the guest change. Returns the paths it refused (hidden, read-only, or not a plain
 * relative path), in archive order.
 */
export async function extractChanges(archive: string, dir: string, rules: WorkspaceRules): Promise<string[]> {
  const refused: string[] = [];
  await tar.extract({
    file: archive,
    cwd: dir,
    unlink: true, // replace, never write through: a host file may have hard links outside the workspace
    filter: (path, entry) => {
      const type = (entry as tar.ReadEntry).type;
      if (type !== "File" && type !== "OldFile" && type !== "Directory") return false;
      const rel = entryPath(path);
      if (rel === undefined || rules.isHidden(rel) || rules.isReadonly(rel)) {
        refused.push(rel ?? path);
        return false;
      }
      return true;
    },
  });
  return refused;
}

/**
 * Brings back the files the command created or changed in the guest's copy of the workspace.
 * Returns the paths that were not written because the policy hides them or makes them read-only.
 */
export async function copyWorkspaceOut(sandbox: Sandbox, dir: string, rules: WorkspaceRules): Promise<{ refused: string[] }> {
  // Nothing changed → no archive at all (tar of an empty list is not an archive node-tar accepts).
  const script =
    `cd "$1" && find . -newer ${STAMP} -type f -print0 > /run/moat/changed && ` +
    "if [ -s /run/moat/changed ]; then tar --null --no-recursion -c -f - -T /run/moat/changed; fi";
  // The archive lands in a host temp file first: a guest that fails half-way changes nothing here.
  const tmp = await mkdtemp(join(tmpdir(), "moat-copy-out-"));
  try {
    const archive = join(tmp, "changed.tar");
    await runChecked(sandbox, ["sh", "-c", script, "sh", dir], undefined, createWriteStream(archive));
    if ((await stat(archive)).size === 0) return { refused: [] };
    return { refused: await extractChanges(archive, dir, rules) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
