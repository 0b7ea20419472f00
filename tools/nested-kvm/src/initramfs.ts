/**
 * Builds the L1 initramfs (busybox-static + initramfs/init) as a gzip'd newc cpio, cached under
 * `<cache>/nested/<hash>/initramfs.cpio.gz` keyed by the hash of its inputs. Built in a temp dir
 * beside the cache entry and renamed into place, so a failed build leaves nothing half-written.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot, initScriptPath } from "./paths.js";

export class InitramfsBuildError extends Error {
  override name = "InitramfsBuildError";
}

/** Debian's busybox-static, the only binary in the initramfs. */
export const busyboxPath = "/bin/busybox";

/** Format version of the archive layout; bump when the layout (not an input file) changes. */
const LAYOUT_VERSION = "1";

function inputsHash(): string {
  if (!existsSync(busyboxPath)) {
    throw new InitramfsBuildError(`${busyboxPath} is missing: install Debian's busybox-static (apt-get install busybox-static)`);
  }
  const hash = createHash("sha256");
  hash.update(`layout ${LAYOUT_VERSION}\n`);
  hash.update(readFileSync(initScriptPath));
  hash.update(readFileSync(busyboxPath));
  return hash.digest("hex").slice(0, 16);
}

function run(command: string, args: string[], cwd: string, input?: Buffer): Buffer {
  const result = spawnSync(command, args, { cwd, input, maxBuffer: 256 << 20 });
  if (result.error) throw new InitramfsBuildError(`${command}: ${result.error.message} (is it installed?)`, { cause: result.error });
  if (result.status !== 0) {
    throw new InitramfsBuildError(`${command} ${args.join(" ")} failed (status ${result.status}): ${result.stderr.toString().trim()}`);
  }
  return result.stdout;
}

/** Returns the path of the cached initramfs, building it first when the inputs changed. */
export function ensureInitramfs(env: NodeJS.ProcessEnv = process.env): string {
  const dir = join(cacheRoot(env), "nested", inputsHash());
  const archive = join(dir, "initramfs.cpio.gz");
  if (existsSync(archive)) return archive;

  mkdirSync(join(cacheRoot(env), "nested"), { recursive: true });
  const temp = mkdtempSync(`${dir}.tmp-`);
  try {
    const root = join(temp, "root");
    for (const sub of ["bin", "dev", "proc", "sys", "lower", "scratch", "newroot"]) mkdirSync(join(root, sub), { recursive: true });
    copyFileSync(busyboxPath, join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    copyFileSync(initScriptPath, join(root, "init"));
    chmodSync(join(root, "init"), 0o755);
    const files = run("find", [".", "-mindepth", "1"], root);
    const cpio = run("cpio", ["--quiet", "-o", "-H", "newc", "-R", "0:0"], root, files);
    writeFileSync(join(temp, "initramfs.cpio.gz"), run("gzip", ["-9", "-n"], root, cpio));
    rmSync(root, { recursive: true, force: true });
    try {
      renameSync(temp, dir);
    } catch (error) {
      // Another run built the same entry meanwhile: keep theirs.
      if (!existsSync(archive)) throw error;
    }
    return archive;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
