/**
 * Finds the L1 kernel. One kernel serves two roles: the guest kernel built by guest/kernel/build.sh
 * is also the L1 host kernel here (its config has KVM_AMD, 9P, overlayfs and the syscalls V8 needs).
 * `$MOAT_NESTED_KERNEL` overrides the lookup with a path to a bzImage or PVH vmlinux.
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { repoDir } from "./paths.js";

export class KernelNotFoundError extends Error {
  override name = "KernelNotFoundError";
}

const buildScript = join(repoDir, "guest", "kernel", "build.sh");

/** Returns the absolute path of the L1 kernel image, or throws a KernelNotFoundError naming the fix. */
export function findL1Kernel(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.MOAT_NESTED_KERNEL;
  if (override) {
    if (!existsSync(override) || !statSync(override).isFile()) {
      throw new KernelNotFoundError(
        `MOAT_NESTED_KERNEL=${override}: no such file; point it at a bzImage or PVH vmlinux, or unset it to use guest/kernel/build.sh's kernel`,
      );
    }
    return override;
  }
  if (!existsSync(buildScript)) {
    throw new KernelNotFoundError(
      `no L1 kernel: ${buildScript} does not exist in this checkout; set MOAT_NESTED_KERNEL to a kernel built with KVM_AMD, 9P and OVERLAY_FS`,
    );
  }
  // --check only looks: a missing kernel is reported with the fix, never built behind the user's back.
  if (spawnSync(buildScript, ["--check"], { stdio: "ignore", env }).status !== 0) {
    throw new KernelNotFoundError(
      `no L1 kernel built yet: run guest/kernel/build.sh (about 7 minutes on 2 cores; tools/bootstrap.sh runs it), or set MOAT_NESTED_KERNEL`,
    );
  }
  const printed = spawnSync(buildScript, ["--print-dir"], { encoding: "utf8", env });
  const dir = printed.stdout.trim();
  if (printed.status !== 0 || !dir) {
    throw new KernelNotFoundError(
      `no L1 kernel: '${buildScript} --print-dir' failed (status ${printed.status}): ${printed.stderr.trim()}`,
    );
  }
  for (const name of ["vmlinux", "bzImage"]) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new KernelNotFoundError(
    `no L1 kernel in ${dir}: build it first with guest/kernel/build.sh (about 7 minutes on 2 cores; tools/bootstrap.sh runs it)`,
  );
}
