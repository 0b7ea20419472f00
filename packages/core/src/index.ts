/**
 * @moat/core: moat's Sandbox API. Backend selection lives in ./backends (registry, package lookup,
 * contract checks, fallbacks, doctor reports).
 */
export * from "./backends/index.js";
export { Sandbox, SANDBOX_LIMITS, type CreateOptions, type SandboxContext } from "./sandbox/sandbox.js";
export { SandboxError, SandboxErrorCode, isSandboxError } from "./errors/sandbox-error.js";
export type { SandboxRecord, SandboxStatus } from "./state/sandbox-record.js";
export { moatPaths, type MoatPaths } from "./state/paths.js";
export { resolveGuestArtifacts, findRepoRoot, type GuestArtifacts } from "./artifacts/guest-artifacts.js";
export { copyWorkspaceIn, copyWorkspaceOut } from "./workspace/workspace-sync.js";
export { workspaceRules, type WorkspaceRules } from "./workspace/workspace-rules.js";
