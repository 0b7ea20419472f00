/**
 * The per-sandbox writable disk: a sparse raw file formatted ext4 on the host (lazy inode tables and
 * journal, so it takes milliseconds). The guest agent joins it with the read-only base image by
 * overlayfs; it is what survives stop/start.
 */
import { execFile } from "node:child_process";
import { open, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";

const run = promisify(execFile);

export const DEFAULT_DISK_BYTES = 8 * 1024 ** 3;

export async function createWritableDisk(path: string, sizeBytes = DEFAULT_DISK_BYTES): Promise<void> {
  const file = await open(path, "wx", 0o600);
  try {
    await file.truncate(sizeBytes);
  } finally {
    await file.close();
  }
  try {
    await run("mkfs.ext4", ["-q", "-F", "-L", "moat-rw", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", path], {
      env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
    });
  } catch (cause) {
    await rm(path, { force: true });
    throw new SandboxError(SandboxErrorCode.START_FAILED, `could not format the writable disk ${path} with mkfs.ext4`, {
      cause,
      fix: "install e2fsprogs (tools/bootstrap.sh does)",
    });
  }
}
