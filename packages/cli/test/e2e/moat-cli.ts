/**
 * Test support for the CLI end-to-end suite: runs the built `moat` (dist/moat.js) as a user would,
 * with its own state and runtime directories, and says why the suite cannot run here when a
 * prerequisite (the bundle, QEMU, the guest kernel or image) is missing.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const MOAT_JS = resolve(import.meta.dirname, "../../dist/moat.js");
const REPO = resolve(import.meta.dirname, "../../../..");

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `moat ARGS` as a user would: not inside a pnpm script (whose INIT_CWD and lifecycle variables leak into children). */
export function spawnMoat(args: string[], env: NodeJS.ProcessEnv, cwd = REPO): ChildProcessWithoutNullStreams {
  const { INIT_CWD: _initCwd, npm_lifecycle_event: _event, ...userEnv } = env;
  const child = spawn(process.execPath, [MOAT_JS, ...args], { env: userEnv, cwd, stdio: ["pipe", "pipe", "pipe"] });
  // A command that exits before reading its stdin (moat ls) makes ending that pipe EPIPE: not a failure.
  child.stdin.on("error", () => undefined);
  return child;
}

export function moat(args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnMoat(args, env, options.cwd);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin.end(options.input ?? "");
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`moat ${args.join(" ")} timed out after ${options.timeoutMs ?? 300_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 300_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

/** Undefined when the suite can run; otherwise the reason it is skipped. */
export function whyNotHere(): string | undefined {
  if (!existsSync(MOAT_JS)) return `${MOAT_JS} is not built (pnpm turbo run build)`;
  const kernel = spawnSync(join(REPO, "guest/kernel/build.sh"), ["--check"]);
  if (kernel.status !== 0) return "the guest kernel is not built (tools/bootstrap.sh builds it)";
  const image = spawnSync(join(REPO, "guest/image/build.sh"), ["--check"]);
  if (image.status !== 0) return "the guest image is not built (tools/bootstrap.sh builds it)";
  const qemu = spawnSync("qemu-system-x86_64", ["-version"]);
  if (qemu.status !== 0) return "qemu-system-x86_64 is not installed (tools/bootstrap.sh installs it)";
  return undefined;
}

/** A suite's own temp directory with moat's state and runtime directories in it (as a user's would be). */
export async function suiteState(prefix: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, env: { ...process.env, MOAT_STATE_DIR: join(dir, "state"), MOAT_RUNTIME_DIR: join(dir, "run") } };
}

/** Removes every sandbox a suite left behind (through the CLI, so their VMMs go too), then its directory. */
export async function removeSuiteState(state: { dir: string; env: NodeJS.ProcessEnv } | undefined): Promise<void> {
  if (!state) return;
  const listed = await moat(["ls", "--json"], state.env);
  for (const s of JSON.parse(listed.stdout || "[]") as Array<{ name: string }>) await moat(["rm", "--force", s.name], state.env);
  await rm(state.dir, { recursive: true, force: true });
}
