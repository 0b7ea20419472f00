/**
 * The contenders, in report order. The first is moat's VMM (in its own process, as a sandbox runs
 * it), the rest are peers it is compared with: QEMU microvm run directly, and moat's software
 * fallback backend (@moat/backend-qemu), measured create → ready marker through the same contract.
 */
import type { Contender } from "./contender.js";
import { moatQemu } from "./moat-backend.js";
import { moatKvm } from "./moat-process.js";
import { qemuMicrovm } from "./qemu-microvm.js";

export const contenders: Contender[] = [moatKvm, qemuMicrovm, moatQemu];
export type { BootSample, Contender } from "./contender.js";
