/**
 * The small file-system interface the plan compiler uses for host checks (mount roots, link scan,
 * secret files). Compiling is otherwise pure; tests pass the real implementation over temp dirs.
 */
import * as fs from "node:fs";

export interface FileInfo {
  type: "file" | "directory" | "symlink" | "other";
  nlink: number;
}

export interface PolicyFs {
  /** Like lstat(2): does not follow a final symlink. null when the path does not exist. */
  lstat(path: string): FileInfo | null;
  /** Like stat(2): follows symlinks. null when missing or dangling. */
  stat(path: string): FileInfo | null;
  realpath(path: string): string | null;
  readdir(path: string): string[];
  readlink(path: string): string | null;
  readFile(path: string): string | null;
}

function info(s: fs.Stats): FileInfo {
  const type = s.isSymbolicLink() ? "symlink" : s.isDirectory() ? "directory" : s.isFile() ? "file" : "other";
  return { type, nlink: s.nlink };
}

function orNull<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** The real host file system (synchronous node:fs). */
export const nodePolicyFs: PolicyFs = {
  lstat: (p) => orNull(() => info(fs.lstatSync(p))),
  stat: (p) => orNull(() => info(fs.statSync(p))),
  realpath: (p) => orNull(() => fs.realpathSync.native(p)),
  readdir: (p) => orNull(() => fs.readdirSync(p)) ?? [],
  readlink: (p) => orNull(() => fs.readlinkSync(p)),
  readFile: (p) => orNull(() => fs.readFileSync(p, "utf8")),
};
