/**
 * The L1 initramfs: Debian's busybox-static and initramfs/init, cached under
 * `<cache>/nested/<hash>/initramfs.cpio.gz` (see cpio.ts).
 */
import { cachedCpio } from "./cpio.js";
import { initScriptPath } from "./paths.js";

export { InitramfsBuildError } from "./cpio.js";

/** Debian's busybox-static, the only binary in the initramfs. */
export const busyboxPath = "/bin/busybox";

/** Returns the path of the cached L1 initramfs, building it first when the inputs changed. */
export function ensureInitramfs(env: NodeJS.ProcessEnv = process.env): string {
  return cachedCpio(
    {
      kind: "nested",
      name: "initramfs.cpio.gz",
      dirs: ["bin", "dev", "proc", "sys", "lower", "scratch", "newroot"],
      files: [
        { path: "bin/busybox", from: busyboxPath, mode: 0o755 },
        { path: "init", from: initScriptPath, mode: 0o755 },
      ],
    },
    env,
  );
}
