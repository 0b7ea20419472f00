/**
 * What `moat doctor` reports: every known, registered or discovered backend, whether it is
 * installed (and for this platform), its version, contract and probe result. Never throws for one
 * backend's trouble: that trouble is the report.
 */
import type { ProbeResult } from "@moat/backend-api";
import { KNOWN_BACKENDS, knownBackend, packageNamesFor, platformCandidates } from "./known-backends.js";
import { loadBackendWithInfo, searchBases, type BackendSearchOptions } from "./load-backend.js";
import { discoverBackendPackages, findPackage, supportsPlatform } from "./locate-package.js";
import { DEFAULT_PROBE_TIMEOUT_MS, probeBackend } from "./probe-backend.js";
import { registeredBackendNames } from "./registry.js";

export interface BackendReport {
  name: string;
  summary?: string;
  /** A package or registration for it exists (and is meant for this platform). */
  installed: boolean;
  /** Whether this platform can have it at all. */
  platformSupported: boolean;
  source?: "registered" | "package";
  packageName?: string;
  version?: string;
  contractVersion?: string;
  /** True when its probe says it can boot guests here. */
  available: boolean;
  /** Why not (or the probe's caveat); always set when not available. */
  reason?: string;
  fix?: string;
  /** Code of the BackendError that stopped loading or probing it, if any. */
  errorCode?: string;
  probe?: ProbeResult;
  /** Default order position on this platform (0 = preferred), if it is a platform candidate. */
  candidateRank?: number;
}

export interface InspectOptions extends BackendSearchOptions {
  probeTimeoutMs?: number;
}

function allNames(options: InspectOptions): string[] {
  const discovered = discoverBackendPackages(searchBases(options)).map((p) => p.replace(/^@moat\/backend-|^moat-backend-/, ""));
  return [...new Set([...KNOWN_BACKENDS.map((k) => k.name), ...registeredBackendNames(), ...discovered])];
}

async function inspectOne(name: string, options: InspectOptions): Promise<BackendReport> {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const known = knownBackend(name);
  const rank = platformCandidates(platform).indexOf(name);
  const base: BackendReport = { name, installed: false, platformSupported: known ? known.os.includes(platform) : true, available: false, ...(known ? { summary: known.summary } : {}), ...(rank >= 0 ? { candidateRank: rank } : {}) };
  const bases = searchBases(options);
  const present = packageNamesFor(name)
    .map((packageName) => findPackage(packageName, bases))
    .find((found) => found !== undefined);
  if (present && !supportsPlatform(present.manifest, platform, arch)) {
    return {
      ...base,
      platformSupported: false,
      packageName: present.packageName,
      ...(present.manifest.version ? { version: present.manifest.version } : {}),
      reason: `not installed (this platform: ${platform}/${arch}; ${present.packageName} is for ${present.manifest.os?.join("/") ?? "?"}${present.manifest.cpu ? ` on ${present.manifest.cpu.join("/")}` : ""})`,
      fix: `on ${platform} use: ${platformCandidates(platform).join(", ") || "a third-party backend"}`,
    };
  }
  try {
    const loaded = await loadBackendWithInfo(name, options);
    const report: BackendReport = {
      ...base,
      installed: true,
      source: loaded.source,
      contractVersion: loaded.backend.contractVersion,
      ...(loaded.packageName ? { packageName: loaded.packageName } : {}),
      ...(loaded.version ? { version: loaded.version } : {}),
    };
    const probe = await probeBackend(loaded.backend, options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
    return { ...report, probe, available: probe.available, ...(probe.reason ? { reason: probe.reason } : {}), ...(probe.fix ? { fix: probe.fix } : {}) };
  } catch (error) {
    const e = error as { code?: string; message?: string; fix?: string };
    const missing = e.code === "NOT_INSTALLED";
    return {
      ...base,
      installed: !missing,
      ...(present ? { packageName: present.packageName, ...(present.manifest.version ? { version: present.manifest.version } : {}) } : {}),
      reason: !missing
        ? (e.message ?? String(error))
        : base.platformSupported
          ? `not installed (looked for ${packageNamesFor(name).join(" and ")})`
          : `not installed (this platform: ${platform}/${arch}; ${name} runs on ${known?.os.join("/")})`,
      ...(e.fix ? { fix: e.fix } : {}),
      ...(e.code ? { errorCode: e.code } : {}),
    };
  }
}

/** Reports on every backend moat knows, has registered, or finds installed. */
export async function inspectBackends(options: InspectOptions = {}): Promise<BackendReport[]> {
  return Promise.all(allNames(options).map((name) => inspectOne(name, options)));
}
