/**
 * In-process backend registrations (`registerBackend()`): embedders and tests add a backend by name
 * without publishing a package. Registrations are consulted before packages of the same name.
 */
import { BackendError, BackendErrorCode, type Backend } from "@moat/backend-api";
import { BACKEND_NAME_PATTERN } from "./known-backends.js";

export type BackendFactory = () => Backend | Promise<Backend>;

const registrations = new Map<string, BackendFactory>();

/** Registers `create` under `name` (replacing an earlier registration); returns an unregister function. */
export function registerBackend(name: string, create: BackendFactory): () => void {
  if (!BACKEND_NAME_PATTERN.test(name)) {
    throw new BackendError(BackendErrorCode.INVALID_SPEC, `registerBackend: name ${JSON.stringify(name)} is not a backend name`, {
      fix: 'use a lowercase word such as "mybackend" (letters, digits, "-")',
    });
  }
  if (typeof create !== "function") {
    throw new BackendError(BackendErrorCode.INVALID_SPEC, `registerBackend("${name}"): the second argument must be a function returning a Backend`, {
      fix: `registerBackend("${name}", () => createBackend())`,
    });
  }
  registrations.set(name, create);
  return () => {
    if (registrations.get(name) === create) registrations.delete(name);
  };
}

export function registeredBackendFactory(name: string): BackendFactory | undefined {
  return registrations.get(name);
}

/** Names of registered backends, in registration order. */
export function registeredBackendNames(): string[] {
  return [...registrations.keys()];
}
