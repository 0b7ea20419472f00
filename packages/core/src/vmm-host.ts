/** Entry point of the VMM host process (bundled to dist/vmm-host.js). See host/host-main.ts. */
import { hostMain } from "./host/host-main.js";

const [sandboxDir, controlPath] = process.argv.slice(2);
if (!sandboxDir || !controlPath) {
  console.error("usage: vmm-host <sandbox-dir> <control-socket>");
  process.exit(2);
}
hostMain(sandboxDir, controlPath).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
