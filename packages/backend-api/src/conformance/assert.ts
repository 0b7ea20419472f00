/** Small assertion helpers for conformance checks: each failure says what the backend did wrong. */
import type { BackendErrorCode } from "../errors/backend-error.js";
import { isBackendError } from "../errors/backend-error.js";

/** Thrown when a backend breaks the contract. */
export class ConformanceFailure extends Error {
  override readonly name = "ConformanceFailure";
}

export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

/** Rejects with a ConformanceFailure naming `step` if `promise` takes longer than `ms`. */
function deadline<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConformanceFailure(`${step} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Awaits `promise` for a step that must succeed: a timeout or a rejection becomes a
 * ConformanceFailure naming the step (the backend's error is kept as `cause`).
 */
export async function within<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  try {
    return await deadline(promise, ms, step);
  } catch (error) {
    if (error instanceof ConformanceFailure) throw error;
    throw new ConformanceFailure(`${step} rejected with ${describeError(error)}`, { cause: error });
  }
}

/** Expects `action` to reject with a BackendError of one of `codes`; returns that error. */
export async function rejectsWith(action: () => Promise<unknown>, codes: readonly BackendErrorCode[], step: string, ms: number): Promise<Error> {
  let outcome: { value: unknown } | { error: unknown };
  try {
    outcome = { value: await deadline(Promise.resolve().then(action), ms, step) };
  } catch (error) {
    if (error instanceof ConformanceFailure) throw error;
    outcome = { error };
  }
  if ("value" in outcome) throw new ConformanceFailure(`${step} resolved, but must reject with a BackendError (${codes.join(" or ")})`);
  const error = outcome.error;
  if (!isBackendError(error)) {
    throw new ConformanceFailure(`${step} rejected with ${describeError(error)}, but must reject with a BackendError (${codes.join(" or ")}) from @moat/backend-api`);
  }
  ensure(codes.includes(error.code), `${step} rejected with code ${error.code} (${error.message}), expected ${codes.join(" or ")}`);
  return error;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `a non-Error value (${typeof error}: ${String(error)})`;
}
