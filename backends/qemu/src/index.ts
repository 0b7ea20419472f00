/**
 * @moat/backend-qemu: moat's software fallback backend. Runs the same guest kernel, image and agent
 * as the KVM backend under Debian's qemu-system-x86_64 (`-M microvm`), with TCG where hardware
 * virtualization is missing. The agent's RPC travels over a virtio-serial port instead of vsock;
 * `Machine.connect(1024)` hides the difference.
 */
import type { Backend } from "@moat/backend-api";
import { QemuBackend } from "./backend.js";

export { QemuBackend, BACKEND_NAME } from "./backend.js";
export { QemuMachine } from "./machine.js";
export { chooseAccelerator, type AcceleratorChoice, type HostFacts } from "./accelerator.js";
export { qemuArguments, RPC_PORT_NAME, CONTROL_PORT_NAME, AGENT_RPC_PORT } from "./command-line.js";
export { parseQemuVersion, MIN_QEMU_VERSION } from "./qemu-binary.js";

export function createBackend(): Backend {
  return new QemuBackend();
}
