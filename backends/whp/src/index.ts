/**
 * @moat/backend-whp: moat's backend on Windows Hypervisor Platform. The VMM port (backends/vmm behind a
 * WHP implementation of the hypervisor interface) is not written yet, so this package is honest
 * about it (see createUnimplementedBackend in @moat/backend-api): probe() reports "not built" and
 * createMachine() refuses with a typed UNAVAILABLE error after validating the spec.
 */
import { createUnimplementedBackend, notBuiltReason, type Backend } from "@moat/backend-api";

export const BACKEND_NAME = "whp";
export const NOT_BUILT_REASON = notBuiltReason(BACKEND_NAME);

export function createBackend(): Backend {
  return createUnimplementedBackend({ name: BACKEND_NAME, hypervisor: "Windows Hypervisor Platform" });
}
