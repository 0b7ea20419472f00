/**
 * @moat/backend-hvf: moat's backend on Apple Hypervisor.framework. The VMM port (backends/vmm behind a
 * HVF implementation of the hypervisor interface) is not written yet, so this package is honest
 * about it (see createUnimplementedBackend in @moat/backend-api): probe() reports "not built" and
 * createMachine() refuses with a typed UNAVAILABLE error after validating the spec.
 */
import { createUnimplementedBackend, notBuiltReason, type Backend } from "@moat/backend-api";

export const BACKEND_NAME = "hvf";
export const NOT_BUILT_REASON = notBuiltReason(BACKEND_NAME);

export function createBackend(): Backend {
  return createUnimplementedBackend({ name: BACKEND_NAME, hypervisor: "Apple Hypervisor.framework" });
}
