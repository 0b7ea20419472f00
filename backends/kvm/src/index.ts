/**
 * @moat/backend-kvm: moat's own VMM on Linux KVM. `createBackend()` implements the backend
 * contract; `NativeVm` runs a machine in-process from a native config (what the VMM host process
 * and the T1 device tests use); `connectHybridVsock()` opens a stream to a guest vsock port.
 */
export { createBackend, type KvmBackendOptions } from "./backend.js";
export { connectHybridVsock } from "./hybrid-vsock.js";
export { KvmMachine } from "./kvm-machine.js";
export { addonPath, loadAddon, type NativeEvent, type NativeMachineConfig, type NativeProbe, type NativeStartInfo } from "./native.js";
export { NativeVm, type NativeExit } from "./native-vm.js";
export { nativeProbe, probeKvm } from "./probe.js";
