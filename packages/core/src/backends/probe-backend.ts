/** Runs a backend's probe() with a deadline, turning a throw or a hang into a diagnosing BackendError. */
import { BackendError, BackendErrorCode, type Backend, type ProbeResult } from "@moat/backend-api";

export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

export async function probeBackend(backend: Backend, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendError(BackendErrorCode.TIMEOUT, `backend "${backend.name}": probe() did not answer within ${timeoutMs} ms`, { backend: backend.name, fix: "report this to the backend's maintainers" })),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(() => backend.probe()), deadline]);
  } catch (error) {
    if (error instanceof BackendError) throw error;
    throw new BackendError(BackendErrorCode.UNAVAILABLE, `backend "${backend.name}": probe() failed: ${error instanceof Error ? error.message : String(error)}`, {
      backend: backend.name,
      cause: error,
      fix: "report this to the backend's maintainers",
    });
  } finally {
    clearTimeout(timer);
  }
}
