/**
 * Whether the e2e suite can run here. The KVM backend needs a /dev/kvm that boots Linux: inside the
 * nested L1 (MOAT_NESTED_L1=1, set by tools/nested-kvm) or on a hardware-KVM host (MOAT_E2E_HOST_KVM=1).
 * Elsewhere the suite skips with this reason printed. Other backends (MOAT_E2E_BACKEND) run anywhere.
 */
import { backendName } from "./sandbox.js";

export const notHereReason =
  backendName !== "kvm" || process.env.MOAT_NESTED_L1 === "1" || process.env.MOAT_E2E_HOST_KVM === "1"
    ? undefined
    : "the KVM e2e suite needs a /dev/kvm that boots Linux: run it through the harness (pnpm --filter @moat/nested-kvm e2e, which tools/test-all.sh runs), or set MOAT_E2E_HOST_KVM=1 on a hardware-KVM host";

if (notHereReason) console.warn(`[nested-e2e] skipping: ${notHereReason}`);
