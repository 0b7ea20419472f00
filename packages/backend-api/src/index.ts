/**
 * @moat/backend-api: the versioned contract between moat and its hypervisor backends
 * (types, MachineSpec validation, error codes, contract-version checks). The conformance kit any
 * backend runs against itself lives at `@moat/backend-api/conformance`; an in-memory fake backend
 * for tests at `@moat/backend-api/testing`.
 */
export * from "./contract.js";
export * from "./errors/backend-error.js";
export * from "./spec/issues.js";
export * from "./spec/limits.js";
export * from "./spec/validate-machine-spec.js";
export * from "./version/contract-version.js";
export * from "./unimplemented.js";
export { createDuplexPair } from "./streams/duplex-pair.js";
