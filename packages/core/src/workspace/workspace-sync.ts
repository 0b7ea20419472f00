/**
 * Workspace copy-in/copy-out: until live sharing (virtio-fs) lands, `moat run` makes the host
 * workspace available in the guest at the same absolute path by streaming a tar archive into the
 * guest's `tar -x`, and brings back the files the command created or changed (newer than the copy-in
 * stamp) from the guest's `tar -c`. Deletions in the guest are not mirrored to the host.
 *
 * The archive coming back is untrusted guest output: only regular files and directories are
 * extracted, with node-tar's path checks (no absolute paths, no "..").
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { Sandbox } from "../sandbox/sandbox.js";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";

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

export async function copyWorkspaceIn(sandbox: Sandbox, dir: string): Promise<{ files: number }> {
  const list = await workspaceFiles(dir);
  const archive = tar.create({ cwd: dir, portable: true, follow: false, noDirRecurse: list !== undefined }, list ?? ["."]);
  await runChecked(sandbox, ["sh", "-c", 'mkdir -p "$1" && tar -x -f - -C "$1" --no-same-owner', "sh", dir], Readable.from(archive as unknown as AsyncIterable<Buffer>));
  await runChecked(sandbox, ["sh", "-c", `mkdir -p /run/moat && touch ${STAMP}`]);
  return { files: list?.length ?? -1 };
}

export async function copyWorkspaceOut(sandbox: Sandbox, dir: string): Promise<void> {
  // Nothing changed → no archive at all (tar of an empty list is not an archive node-tar accepts).
  const script =
    `cd "$1" && find . -newer ${STAMP} -type f -print0 > /run/moat/changed && ` +
    "if [ -s /run/moat/changed ]; then tar --null --no-recursion -c -f - -T /run/moat/changed; fi";
  // The archive lands in a host temp file first: a guest that fails half-way changes nothing here.
  const tmp = await mkdtemp(join(tmpdir(), "moat-copy-out-"));
  try {
    const archive = join(tmp, "changed.tar");
    await runChecked(sandbox, ["sh", "-c", script, "sh", dir], undefined, createWriteStream(archive));
    if ((await stat(archive)).size === 0) return;
    await tar.extract({
      file: archive,
      cwd: dir,
      filter: (_path, entry) => {
        const type = (entry as tar.ReadEntry).type;
        return type === "File" || type === "OldFile" || type === "Directory";
      },
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
