/**
 * Finds (building them if needed) the guest artifacts the boot test uses: the kernel from
 * guest/kernel/build.sh and the base image from guest/image/build.sh. Both scripts exit 3 when the
 * machine lacks a prerequisite (tool, root, network); only that becomes a skip reason — any other
 * build failure is reported as a failure with the build's output.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export type Artifacts =
  | { ok: true; vmlinux: string; baseImage: string; kernelDir: string; imageDir: string }
  | { ok: false; skipReason: string };

interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a build script, streaming its progress (stderr) to ours so a long first build is visible. */
function runScript(script: string, args: string[]): Promise<ScriptResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(repoRoot, script), args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Resolves one artifact directory via `<script> --print-dir`. */
async function printDir(script: string): Promise<{ dir: string } | { skipReason: string }> {
  const r = await runScript(script, ["--print-dir"]);
  if (r.code === 0) return { dir: r.stdout.trim().split("\n").pop() ?? "" };
  const tail = r.stderr.trim().split("\n").slice(-30).join("\n");
  if (r.code === 3) return { skipReason: `${script} cannot build here (missing prerequisite):\n${tail}` };
  throw new Error(`${script} --print-dir failed with exit code ${r.code}:\n${tail}`);
}

/** The kernel alone (guest/kernel/build.sh), for tests that boot it with their own initrd. */
export async function resolveKernel(): Promise<{ ok: true; vmlinux: string; kernelDir: string } | { ok: false; skipReason: string }> {
  const kernel = await printDir("guest/kernel/build.sh");
  if ("skipReason" in kernel) return { ok: false, skipReason: kernel.skipReason };
  const vmlinux = join(kernel.dir, "vmlinux");
  if (!existsSync(vmlinux)) throw new Error(`guest/kernel/build.sh reported success but ${vmlinux} does not exist`);
  return { ok: true, vmlinux, kernelDir: kernel.dir };
}

/** Kernel and base image (guest/image/build.sh, which builds the agent too). */
export async function resolveArtifacts(): Promise<Artifacts> {
  const kernel = await resolveKernel();
  if (!kernel.ok) return kernel;
  const image = await printDir("guest/image/build.sh");
  if ("skipReason" in image) return { ok: false, skipReason: image.skipReason };
  const baseImage = join(image.dir, "base.erofs");
  if (!existsSync(baseImage)) throw new Error(`guest/image/build.sh reported success but ${baseImage} does not exist`);
  return { ok: true, vmlinux: kernel.vmlinux, baseImage, kernelDir: kernel.kernelDir, imageDir: image.dir };
}
