/**
 * The contenders, in report order. The first is moat's VMM, the rest are peers it is compared with.
 * The software fallback backend (@moat/backend-qemu) will add itself here as another contender
 * measuring create → first console output through the same contract (see moat-kvm.ts for the shape).
 */
import type { Contender } from "./contender.js";
import { moatKvm } from "./moat-kvm.js";
import { qemuMicrovm } from "./qemu-microvm.js";

export const contenders: Contender[] = [moatKvm, qemuMicrovm];
export type { BootSample, Contender } from "./contender.js";
