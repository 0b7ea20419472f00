/**
 * Finding the guest kernel and base image a sandbox boots. Both are built on demand by the repo's
 * scripts (guest/kernel/build.sh, guest/image/build.sh: cached under ~/.cache/moat, keyed by their
 * inputs, with progress on stderr) the first time they are needed. MOAT_KERNEL (a vmlinux/bzImage
 * path) and MOAT_IMAGE_DIR (a directory holding base.erofs) override the scripts.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";

export interface GuestArtifacts {
  kernelPath: string;
  /** Read-only base root filesystem (erofs). */
  baseImagePath: string;
}

export interface ArtifactOptions {
  /** Image flavour, e.g. "base". */
  image: string;
  env?: NodeJS.ProcessEnv;
  /** Where the build scripts' progress goes (default: this process's stderr). */
  progress?: "inherit" | "ignore";
}

const KERNEL_SCRIPT = "guest/kernel/build.sh";
const IMAGE_SCRIPT = "guest/image/build.sh";

/** The source checkout moat runs from (holds guest/kernel/build.sh), found by walking up. */
export function findRepoRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MOAT_REPO_ROOT) return resolve(env.MOAT_REPO_ROOT);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, KERNEL_SCRIPT))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function resolveGuestArtifacts(options: ArtifactOptions): Promise<GuestArtifacts> {
  const env = options.env ?? process.env;
  const kernelPath = env.MOAT_KERNEL ?? join(await runPrintDir(KERNEL_SCRIPT, [], options), "vmlinux");
  const imageDir = env.MOAT_IMAGE_DIR ?? (await runPrintDir(IMAGE_SCRIPT, ["--flavour", options.image], options));
  const baseImagePath = join(imageDir, "base.erofs");
  for (const [what, path, variable] of [
    ["guest kernel", kernelPath, "MOAT_KERNEL"],
    ["guest base image", baseImagePath, "MOAT_IMAGE_DIR"],
  ] as const) {
    if (!existsSync(path)) {
      throw new SandboxError(SandboxErrorCode.ARTIFACT_MISSING, `${what} not found at ${path}`, {
        fix: `rebuild it with tools/bootstrap.sh, or point ${variable} at a good one`,
      });
    }
  }
  return { kernelPath, baseImagePath };
}

/** Runs `<script> --print-dir`, which builds when needed and prints the cache directory. */
async function runPrintDir(script: string, extra: string[], options: ArtifactOptions): Promise<string> {
  const env = options.env ?? process.env;
  const root = findRepoRoot(env);
  if (!root) {
    throw new SandboxError(SandboxErrorCode.ARTIFACT_MISSING, `cannot find ${script}: moat is not running from its source checkout`, {
      fix: "set MOAT_KERNEL and MOAT_IMAGE_DIR to a built guest kernel and image, or MOAT_REPO_ROOT to the checkout",
    });
  }
  const child = spawn(join(root, script), ["--print-dir", ...extra], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", options.progress ?? "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const code = await new Promise<number | null>((res, rej) => {
    child.once("error", rej);
    child.once("close", res);
  });
  const dir = out.trim().split("\n").pop()?.trim() ?? "";
  if (code !== 0 || !dir) {
    throw new SandboxError(SandboxErrorCode.ARTIFACT_MISSING, `${script} --print-dir failed (exit ${code})`, {
      fix: `run ${join(root, script)} by hand to see why, or run tools/bootstrap.sh`,
    });
  }
  return dir;
}
