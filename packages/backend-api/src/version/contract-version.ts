/**
 * Contract version arithmetic: parsing the semver a backend reports and deciding whether it fits the
 * contract this package defines. Same major fits (for 0.x: same major and minor, as semver says).
 */
import { CONTRACT_VERSION } from "../contract.js";

export interface ParsedVersion {
  major: number;
  minor: number;
  patch: number;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[-+][0-9A-Za-z.+-]*)?$/;

/** Parses "1.2.3" (pre-release/build suffixes allowed); undefined when it is not semver. */
export function parseContractVersion(version: unknown): ParsedVersion | undefined {
  if (typeof version !== "string") return undefined;
  const match = SEMVER.exec(version);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** Major version of `version` (default: this package's CONTRACT_VERSION); throws on non-semver. */
export function contractMajor(version: string = CONTRACT_VERSION): number {
  const parsed = parseContractVersion(version);
  if (!parsed) throw new TypeError(`contract version ${JSON.stringify(version)} is not semver (expected e.g. "1.0.0")`);
  return parsed.major;
}

/** The peer range that fits `version`, e.g. "^1" for 1.x; what a backend's peerDependencies should say. */
export function compatibleRange(version: string = CONTRACT_VERSION): string {
  const parsed = parseContractVersion(version);
  if (!parsed) throw new TypeError(`contract version ${JSON.stringify(version)} is not semver (expected e.g. "1.0.0")`);
  return parsed.major === 0 ? `^0.${parsed.minor}` : `^${parsed.major}`;
}

/**
 * True when a backend implementing `backendVersion` can be driven by a host speaking `hostVersion`
 * (default: CONTRACT_VERSION). Minor versions only add optional members, so any minor of the same
 * major fits in both directions.
 */
export function isContractCompatible(backendVersion: unknown, hostVersion: string = CONTRACT_VERSION): boolean {
  const backend = parseContractVersion(backendVersion);
  const host = parseContractVersion(hostVersion);
  if (!backend || !host) return false;
  if (backend.major !== host.major) return false;
  return host.major !== 0 || backend.minor === host.minor;
}
