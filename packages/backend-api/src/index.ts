/**
 * @moat/backend-api: the versioned contract between moat and its hypervisor backends
 * (types, MachineSpec validation, error codes) and a conformance kit any backend runs against itself.
 */
export * from "./contract.js";
