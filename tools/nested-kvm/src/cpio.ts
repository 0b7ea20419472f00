/**
 * Cached gzip'd newc cpio archives (initramfs images) made with Debian's cpio and gzip:
 * `<cache>/<kind>/<hash of the entries>/<name>`, built in a temp dir beside it and renamed into place,
 * so a failed build leaves nothing half-written and concurrent builders agree.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheRoot } from "./paths.js";

export class InitramfsBuildError extends Error {
  override name = "InitramfsBuildError";
}

/** One file of the archive: its path inside, its bytes (or a host file to copy) and its mode. */
export interface CpioFile {
  path: string;
  from?: string;
  content?: string | Buffer;
  mode: number;
}

export interface CpioSpec {
  /** Cache kind, e.g. "nested" or "bench-boot". */
  kind: string;
  /** File name of the archive inside its cache dir. */
  name: string;
  files: CpioFile[];
  /** Empty directories to create (mount points). */
  dirs: string[];
}

function bytesOf(file: CpioFile): Buffer {
  if (file.content !== undefined) return Buffer.from(file.content);
  if (!file.from || !existsSync(file.from)) {
    throw new InitramfsBuildError(`initramfs input ${file.from ?? file.path} is missing${file.from === "/bin/busybox" ? ": install Debian's busybox-static (apt-get install busybox-static)" : ""}`);
  }
  return readFileSync(file.from);
}

function run(command: string, args: string[], cwd: string, input?: Buffer): Buffer {
  const result = spawnSync(command, args, { cwd, input, maxBuffer: 256 << 20 });
  if (result.error) throw new InitramfsBuildError(`${command}: ${result.error.message} (is it installed?)`, { cause: result.error });
  if (result.status !== 0) {
    throw new InitramfsBuildError(`${command} ${args.join(" ")} failed (status ${result.status}): ${result.stderr.toString().trim()}`);
  }
  return result.stdout;
}

/** Returns the path of the cached archive, building it first when its inputs changed. */
export function cachedCpio(spec: CpioSpec, env: NodeJS.ProcessEnv = process.env): string {
  const contents = spec.files.map((file) => ({ ...file, bytes: bytesOf(file) }));
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ name: spec.name, dirs: spec.dirs, files: contents.map((f) => [f.path, f.mode]) }));
  for (const file of contents) hash.update(file.bytes);
  const kindDir = join(cacheRoot(env), spec.kind);
  const dir = join(kindDir, hash.digest("hex").slice(0, 16));
  const archive = join(dir, spec.name);
  if (existsSync(archive)) return archive;

  mkdirSync(kindDir, { recursive: true });
  const temp = mkdtempSync(`${dir}.tmp-`);
  try {
    const root = join(temp, "root");
    for (const sub of spec.dirs) mkdirSync(join(root, sub), { recursive: true });
    for (const file of contents) {
      const target = join(root, file.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.bytes);
      chmodSync(target, file.mode);
    }
    const list = run("find", [".", "-mindepth", "1"], root);
    const cpio = run("cpio", ["--quiet", "-o", "-H", "newc", "-R", "0:0"], root, list);
    writeFileSync(join(temp, spec.name), run("gzip", ["-9", "-n"], root, cpio));
    rmSync(root, { recursive: true, force: true });
    try {
      renameSync(temp, dir);
    } catch (error) {
      if (!existsSync(archive)) throw error; // else another run built the same entry meanwhile
    }
    return archive;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
