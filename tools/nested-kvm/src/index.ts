/** @moat/nested-kvm: run a command inside an L1 VM with nested-virtualization /dev/kvm (test tier T2). */
export { runNested, startNested, processAlive, EXIT_TIMEOUT, EXIT_HARNESS_ERROR } from "./run.js";
export type { NestedRun, NestedRunOptions, NestedRunResult } from "./run.js";
export { findL1Kernel, KernelNotFoundError } from "./kernel.js";
export { ensureInitramfs, InitramfsBuildError } from "./initramfs.js";
export { ConsoleReader } from "./console.js";
export { packageDir, repoDir, probeBinaryPath } from "./paths.js";
export { cachedCpio } from "./cpio.js";
export type { CpioFile, CpioSpec } from "./cpio.js";
export { busyboxPath } from "./initramfs.js";
