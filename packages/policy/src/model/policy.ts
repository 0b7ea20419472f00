/**
 * The policy model: what one policy file (or the built-in defaults, or the CLI flags) says — a
 * `PolicyLayer` — and the merged `EffectivePolicy`. Every entry keeps its origin. Values here are
 * validated and normalised; nothing in this model has touched the host file system yet.
 */
import type { Located, Origin } from "./origin.js";
import type { HostPattern } from "../network/host.js";
import type { NetworkRuleSpec, Verdict } from "../network/rule.js";

export type MountMode = "ro" | "rw";
export type PresetName = "open" | "balanced" | "locked";
export type LinkRule = "refuse" | "warn";

export interface GlobSpec {
  glob: string;
  origin: Origin;
  path: string;
}

export interface MountSpec {
  /** Host path as written (may be relative or start with `~`). */
  host: string;
  /**
   * Absolute guest path as written; absent = the same path as on the host (the host path made
   * absolute, symlinks not resolved), decided when the mount table is compiled.
   */
  guest?: string;
  mode: MountMode;
  deny: GlobSpec[];
  readonly: GlobSpec[];
  origin: Origin;
  path: string;
}

export type SecretSource = { env: string } | { file: string };

export interface SecretSpec {
  name: string;
  from: SecretSource;
  hosts: { pattern: HostPattern; text: string }[];
  /** Header to set (e.g. `Authorization`); absent = replace the placeholder wherever it appears in headers. */
  header?: string;
  /** Header value template with `{value}`, default `{value}`. */
  format: string;
  /** What the guest sees instead of the value. */
  placeholder: string;
  origin: Origin;
  path: string;
}

export interface PolicyLayer {
  files: {
    mounts: MountSpec[];
    deny: GlobSpec[];
    readonly: GlobSpec[];
    outsideLinks?: Located<LinkRule>;
    allowBroad?: Located<boolean>;
  };
  network: {
    preset?: Located<PresetName>;
    default?: Located<Verdict>;
    directIp?: Located<Verdict>;
    rules: NetworkRuleSpec[];
  };
  secrets: SecretSpec[];
  resources: {
    cpus?: Located<number>;
    memoryMiB?: Located<number>;
    diskMiB?: Located<number>;
  };
}

export function emptyLayer(): PolicyLayer {
  return { files: { mounts: [], deny: [], readonly: [] }, network: { rules: [] }, secrets: [], resources: {} };
}

/** The merged policy every layer contributed to; scalars are the last layer's, lists concatenated. */
export interface EffectivePolicy {
  files: {
    mounts: MountSpec[];
    deny: GlobSpec[];
    readonly: GlobSpec[];
    outsideLinks: Located<LinkRule>;
    allowBroad: Located<boolean>;
  };
  network: {
    preset: Located<PresetName>;
    default: Located<Verdict>;
    directIp: Located<Verdict>;
    rules: NetworkRuleSpec[];
  };
  secrets: SecretSpec[];
  resources: {
    cpus: Located<number>;
    memoryMiB: Located<number>;
    diskMiB: Located<number>;
  };
}
