/**
 * Loads one backend by name: a registration first, else the package @moat/backend-<name> or
 * moat-backend-<name>. Checks the contract major. Every failure is a BackendError that says what is
 * installed, what was looked for and the fix; a package that is present but fails to load is
 * LOAD_FAILED with the original error as `cause`, never "not installed".
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import {
  BackendError,
  BackendErrorCode,
  CONTRACT_VERSION,
  compatibleRange,
  isContractCompatible,
  type Backend,
  type BackendModule,
} from "@moat/backend-api";
import { BACKEND_NAME_PATTERN, KNOWN_BACKENDS, knownBackend, packageNamesFor, platformCandidates } from "./known-backends.js";
import { defaultSearchBases, discoverBackendPackages, findPackage, nodeModulesDirs, packageEntry, supportsPlatform, type FoundPackage } from "./locate-package.js";
import { registeredBackendFactory, registeredBackendNames } from "./registry.js";

export interface BackendSearchOptions {
  /** Directories to resolve backend packages from, tried before the defaults (core's own location, cwd). */
  resolveFrom?: readonly string[];
  /** Set false to search only `resolveFrom` (tests use this for a hermetic lookup). Default true. */
  searchDefaultBases?: boolean;
  /** Extra package.json "exports" conditions, e.g. "moat-source" to load workspace TS sources under vitest. */
  conditions?: readonly string[];
  /** Host facts (default: this process's); tests override them. */
  platform?: NodeJS.Platform;
  arch?: string;
  /** The contract this host speaks (default CONTRACT_VERSION). */
  hostContractVersion?: string;
}

export interface LoadedBackend {
  name: string;
  backend: Backend;
  source: "registered" | "package";
  packageName?: string;
  version?: string;
  /** Folder of the package. */
  dir?: string;
}

export function searchBases(options: BackendSearchOptions): string[] {
  return [...(options.resolveFrom ?? []), ...(options.searchDefaultBases === false ? [] : defaultSearchBases())];
}

const host = (options: BackendSearchOptions) => `${options.platform ?? process.platform}/${options.arch ?? process.arch}`;

/** "kvm (@moat/backend-kvm 0.1.0), mine (registered)": what is installed, for error messages. */
export function describeInstalled(options: BackendSearchOptions): string {
  const bases = searchBases(options);
  const items = registeredBackendNames().map((name) => `${name} (registered)`);
  for (const packageName of discoverBackendPackages(bases)) {
    const found = findPackage(packageName, bases);
    const name = packageName.replace(/^@moat\/backend-|^moat-backend-/, "");
    const platformNote = found && !supportsPlatform(found.manifest, options.platform ?? process.platform, options.arch ?? process.arch) ? ", not for this platform" : "";
    items.push(`${name} (${packageName} ${found?.manifest.version ?? "?"}${platformNote})`);
  }
  return items.length > 0 ? items.join(", ") : "none";
}

function where(bases: readonly string[]): string {
  const dirs = nodeModulesDirs(bases);
  if (dirs.length === 0) return "no node_modules folder found";
  return dirs.length <= 3 ? dirs.join(", ") : `${dirs.slice(0, 3).join(", ")} and ${dirs.length - 3} more`;
}

function notInstalled(name: string, options: BackendSearchOptions, wrongPlatform?: FoundPackage): BackendError {
  const [scoped, plain] = packageNamesFor(name);
  const platform = options.platform ?? process.platform;
  const known = knownBackend(name);
  const hereCandidates = platformCandidates(platform).join(", ") || "none known";
  const installed = describeInstalled(options);
  if (wrongPlatform || (known && !known.os.includes(platform))) {
    const runsOn = wrongPlatform?.manifest.os?.join("/") ?? known?.os.join("/") ?? "another platform";
    return new BackendError(
      BackendErrorCode.NOT_INSTALLED,
      `backend "${name}" is not available for this platform: ${wrongPlatform?.packageName ?? scoped} runs on ${runsOn}${wrongPlatform?.manifest.cpu ? ` (${wrongPlatform.manifest.cpu.join("/")})` : ""}; this host is ${host(options)}. Installed: ${installed}.`,
      { backend: name, fix: `on ${platform} use one of: ${hereCandidates} (run "moat doctor" to see which work here)` },
    );
  }
  const looked = `looked for a registered backend "${name}" and the packages ${scoped} and ${plain} in ${where(searchBases(options))}`;
  if (known) {
    return new BackendError(BackendErrorCode.NOT_INSTALLED, `backend "${name}" (${known.summary}) is not installed: ${looked}. Installed: ${installed}.`, {
      backend: name,
      fix: `install ${scoped} (it is an optional dependency of @moat/core: reinstall without --no-optional, or add it: pnpm add ${scoped})`,
    });
  }
  return new BackendError(
    BackendErrorCode.NOT_INSTALLED,
    `unknown backend "${name}": ${looked}, and found neither. Known backends: ${KNOWN_BACKENDS.map((k) => k.name).join(", ")}. Installed: ${installed}.`,
    { backend: name, fix: `check the spelling, or install the backend's package (pnpm add ${plain}); on ${platform} moat uses: ${hereCandidates}` },
  );
}

function loadFailed(name: string, what: string, cause: unknown, fix: string): BackendError {
  const detail = cause instanceof Error ? `${cause.name === "Error" ? "" : `${cause.name}: `}${cause.message}` : String(cause);
  return new BackendError(BackendErrorCode.LOAD_FAILED, `backend "${name}": ${what} failed to load: ${detail}`, { backend: name, cause, fix });
}

/** Checks the object a backend factory returned: the contract's members and a compatible major. */
function checkBackend(name: string, backend: unknown, origin: string, options: BackendSearchOptions, found?: FoundPackage): Backend {
  const peerRange = found?.manifest.peerDependencies?.["@moat/backend-api"];
  const what = found?.packageName ?? `the backend "${name}"`;
  const hostVersion = options.hostContractVersion ?? CONTRACT_VERSION;
  const candidate = backend as Partial<Backend> | undefined;
  if (typeof candidate !== "object" || candidate === null || typeof candidate.probe !== "function" || typeof candidate.createMachine !== "function") {
    throw new BackendError(BackendErrorCode.INCOMPATIBLE_CONTRACT, `backend "${name}": ${origin} returned ${candidate === null ? "null" : typeof candidate} from createBackend(), not a Backend (it needs name, contractVersion, probe() and createMachine())`, {
      backend: name,
      fix: `use a version of ${what} built for @moat/backend-api ${compatibleRange(hostVersion)}`,
    });
  }
  if (!isContractCompatible(candidate.contractVersion, hostVersion)) {
    const declared = peerRange ? `; its package declares @moat/backend-api ${peerRange}` : "";
    throw new BackendError(
      BackendErrorCode.INCOMPATIBLE_CONTRACT,
      `backend "${name}": ${origin} implements backend contract ${JSON.stringify(candidate.contractVersion ?? null)}, but this moat speaks contract ${hostVersion}${declared}. Versions that fit: backends built for @moat/backend-api ${compatibleRange(hostVersion)} (contract ${compatibleRange(hostVersion).slice(1)}.x).`,
      { backend: name, fix: `install a release of ${what} whose peerDependencies list @moat/backend-api ${compatibleRange(hostVersion)}, or a moat whose contract matches the backend's` },
    );
  }
  return candidate as Backend;
}

async function fromPackage(name: string, found: FoundPackage, options: BackendSearchOptions): Promise<LoadedBackend> {
  const origin = `package ${found.packageName}@${found.manifest.version ?? "?"} (${found.dir})`;
  const fix = `reinstall ${found.packageName} (pnpm install), or report the error to its maintainers; meanwhile pick another backend with MOAT_BACKEND`;
  let module: Partial<BackendModule> & { default?: Partial<BackendModule> };
  let entry: string;
  try {
    entry = packageEntry(found, options.conditions);
  } catch (error) {
    throw loadFailed(name, origin, error, fix);
  }
  if (!existsSync(entry)) {
    throw new BackendError(BackendErrorCode.LOAD_FAILED, `backend "${name}": ${origin} is installed but its entry file ${entry} is missing (not built?)`, {
      backend: name,
      fix: `build it (in a moat checkout: pnpm turbo run build --filter=${found.packageName}), or reinstall ${found.packageName}`,
    });
  }
  try {
    module = (await import(pathToFileURL(entry).href)) as typeof module;
  } catch (error) {
    throw loadFailed(name, origin, error, fix);
  }
  const createBackend = module.createBackend ?? module.default?.createBackend;
  if (typeof createBackend !== "function") {
    throw new BackendError(BackendErrorCode.LOAD_FAILED, `backend "${name}": ${origin} does not export createBackend(); it is not a moat backend`, { backend: name, fix });
  }
  let backend: unknown;
  try {
    backend = await createBackend();
  } catch (error) {
    throw loadFailed(name, `${origin}: createBackend()`, error, fix);
  }
  return {
    name,
    backend: checkBackend(name, backend, origin, options, found),
    source: "package",
    packageName: found.packageName,
    ...(found.manifest.version ? { version: found.manifest.version } : {}),
    dir: found.dir,
  };
}

/** Locates and loads backend `name` (see module comment); throws a diagnosing BackendError. */
export async function loadBackendWithInfo(name: string, options: BackendSearchOptions = {}): Promise<LoadedBackend> {
  if (typeof name !== "string" || !BACKEND_NAME_PATTERN.test(name)) {
    throw new BackendError(BackendErrorCode.NOT_INSTALLED, `unknown backend ${JSON.stringify(name)}: not a backend name (backend names are lowercase words like "kvm")`, {
      fix: `use one of: ${KNOWN_BACKENDS.map((k) => k.name).join(", ")} (or the name of an installed moat-backend-<name> package)`,
    });
  }
  const factory = registeredBackendFactory(name);
  if (factory) {
    let backend: unknown;
    try {
      backend = await factory();
    } catch (error) {
      throw loadFailed(name, "the registered factory", error, "fix the factory passed to registerBackend()");
    }
    return { name, backend: checkBackend(name, backend, `registered backend "${name}"`, options), source: "registered" };
  }
  const bases = searchBases(options);
  let wrongPlatform: FoundPackage | undefined;
  for (const packageName of packageNamesFor(name)) {
    const found = findPackage(packageName, bases);
    if (!found) continue;
    if (!supportsPlatform(found.manifest, options.platform ?? process.platform, options.arch ?? process.arch)) {
      wrongPlatform ??= found;
      continue;
    }
    return fromPackage(name, found, options);
  }
  throw notInstalled(name, options, wrongPlatform);
}

/** Loads backend `name` and returns it (see `loadBackendWithInfo()` for the metadata too). */
export async function loadBackend(name: string, options: BackendSearchOptions = {}): Promise<Backend> {
  return (await loadBackendWithInfo(name, options)).backend;
}
