/**
 * Typed errors of the Sandbox API. Each carries a stable `code`, a one-line message that names the
 * value at fault, and a `fix` the CLI prints after it.
 */
export const SandboxErrorCode = {
  INVALID_NAME: "INVALID_NAME",
  NOT_FOUND: "NOT_FOUND",
  NAME_TAKEN: "NAME_TAKEN",
  NOT_RUNNING: "NOT_RUNNING",
  ALREADY_RUNNING: "ALREADY_RUNNING",
  BROKEN_STATE: "BROKEN_STATE",
  INVALID_OPTION: "INVALID_OPTION",
  START_FAILED: "START_FAILED",
  AGENT_UNREACHABLE: "AGENT_UNREACHABLE",
  ARTIFACT_MISSING: "ARTIFACT_MISSING",
  POLICY_VIOLATION: "POLICY_VIOLATION",
} as const;

export type SandboxErrorCode = (typeof SandboxErrorCode)[keyof typeof SandboxErrorCode];

export class SandboxError extends Error {
  override readonly name = "SandboxError";
  readonly code: SandboxErrorCode;
  readonly fix: string | undefined;

  constructor(code: SandboxErrorCode, message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fix = options.fix;
  }
}

export function isSandboxError(value: unknown, code?: SandboxErrorCode): value is SandboxError {
  return value instanceof SandboxError && (code === undefined || value.code === code);
}
