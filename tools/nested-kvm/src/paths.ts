/**
 * Where the harness finds its own files and the repository, and where it caches what it builds
 * (`$MOAT_CACHE_DIR` or `~/.cache/moat`, kind "nested").
 */
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** tools/nested-kvm (the same from src/*.ts and from dist/*.js). */
export const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The repository checkout that holds this package. */
export const repoDir = resolve(packageDir, "../..");

/** The L1 /init script that the initramfs is built around. */
export const initScriptPath = join(packageDir, "initramfs", "init");

/** The static KVM probe program built by `make -C probe`. */
export const probeBinaryPath = join(packageDir, "probe", "build", "kvm-probe");

/** Root of moat's caches: $MOAT_CACHE_DIR, else ~/.cache/moat. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOAT_CACHE_DIR ? resolve(env.MOAT_CACHE_DIR) : join(homedir(), ".cache", "moat");
}
