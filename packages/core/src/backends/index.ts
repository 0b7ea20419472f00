/**
 * Backend selection and loading for @moat/core: registrations, package lookup, contract checks,
 * the choice of backend for a sandbox (with fallbacks) and the per-backend report `moat doctor` prints.
 */
export { SEE_DOCTOR, chooseBackend, chooseFirstAvailable, describeVerdict, type BackendChoice, type CandidateVerdict, type ChooseBackendOptions } from "./choose-backend.js";
export { inspectBackends, type BackendReport, type InspectOptions } from "./inspect-backends.js";
export { KNOWN_BACKENDS, PLATFORM_CANDIDATES, knownBackend, packageNamesFor, platformCandidates, type KnownBackend } from "./known-backends.js";
export { loadBackend, loadBackendWithInfo, type BackendSearchOptions, type LoadedBackend } from "./load-backend.js";
export { DEFAULT_PROBE_TIMEOUT_MS, probeBackend } from "./probe-backend.js";
export { registerBackend, registeredBackendNames, type BackendFactory } from "./registry.js";
