/**
 * The one error type every backend and @moat/core throw for backend trouble: a `BackendError` with a
 * machine-readable `code`, a message written for the user that names the bad value, an optional `fix`
 * (what to do next) and the underlying `cause`.
 */

/** Why a backend operation failed. Stable strings: tools and tests match on them. */
export const BackendErrorCode = {
  /** No package provides the backend that was asked for (or it is not installable on this platform). */
  NOT_INSTALLED: "NOT_INSTALLED",
  /** The backend is installed but cannot run guests here (no /dev/kvm, no permission, not built...). */
  UNAVAILABLE: "UNAVAILABLE",
  /** The backend implements another major version of the backend contract. */
  INCOMPATIBLE_CONTRACT: "INCOMPATIBLE_CONTRACT",
  /** A `MachineSpec` failed validation. */
  INVALID_SPEC: "INVALID_SPEC",
  /** The backend package was found but threw (or exported the wrong thing) while loading. */
  LOAD_FAILED: "LOAD_FAILED",
  /** The machine could not be started. */
  BOOT_FAILED: "BOOT_FAILED",
  /** The machine ended unexpectedly (VMM fault, guest triple fault, host process died). */
  CRASHED: "CRASHED",
  /** The operation is not valid in the machine's current state (e.g. pause() on a stopped machine). */
  INVALID_STATE: "INVALID_STATE",
  /** The backend does not implement this optional feature (see `ProbeResult.features`). */
  UNSUPPORTED: "UNSUPPORTED",
  /** The operation did not finish in time. */
  TIMEOUT: "TIMEOUT",
} as const;

export type BackendErrorCode = (typeof BackendErrorCode)[keyof typeof BackendErrorCode];

export interface BackendErrorOptions {
  /** What the user should do next, e.g. "sudo usermod -aG kvm $USER, then log in again". */
  fix?: string;
  /** The backend the error is about, when known. */
  backend?: string;
  /** The underlying error. */
  cause?: unknown;
}

export class BackendError extends Error {
  override readonly name = "BackendError";
  readonly code: BackendErrorCode;
  readonly fix: string | undefined;
  readonly backend: string | undefined;

  constructor(code: BackendErrorCode, message: string, options: BackendErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fix = options.fix;
    this.backend = options.backend;
  }
}

/**
 * True when `value` is a BackendError (optionally of `code`). Matches by shape as well as by class,
 * so errors from a second copy of this package (a third-party backend's own dependency) still count.
 */
export function isBackendError(value: unknown, code?: BackendErrorCode): value is BackendError {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown };
  const shaped =
    value instanceof BackendError ||
    (candidate.name === "BackendError" &&
      typeof candidate.code === "string" &&
      Object.values(BackendErrorCode).includes(candidate.code as BackendErrorCode));
  return shaped && (code === undefined || candidate.code === code);
}
