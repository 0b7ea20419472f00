/**
 * Where moat keeps things on the host, following the XDG base-directory spec:
 * state (sandboxes, their disks and logs) under $XDG_STATE_HOME/moat (~/.local/state/moat),
 * caches (kernels, images) under $MOAT_CACHE_DIR or $XDG_CACHE_HOME/moat (~/.cache/moat),
 * and sockets under a short runtime directory (Unix socket paths are limited to 107 bytes).
 */
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface MoatPaths {
  stateDir: string;
  sandboxesDir: string;
  cacheDir: string;
  runtimeDir: string;
}

export function moatPaths(env: NodeJS.ProcessEnv = process.env): MoatPaths {
  const home = env.HOME || homedir();
  const stateHome = env.XDG_STATE_HOME || join(home, ".local", "state");
  const stateDir = env.MOAT_STATE_DIR || join(stateHome, "moat");
  const cacheDir = env.MOAT_CACHE_DIR || join(env.XDG_CACHE_HOME || join(home, ".cache"), "moat");
  const runtimeDir = env.MOAT_RUNTIME_DIR || (env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "moat") : join(tmpdir(), `moat-${userInfo().uid}`));
  return { stateDir, sandboxesDir: join(stateDir, "sandboxes"), cacheDir, runtimeDir };
}
