/**
 * Compiles an effective policy into the `Plan` the runtime enforces: the checked mount table, the
 * network matcher and the secret injection table, plus the resource limits. Host checks (mount
 * roots, link scan, secret sources) go through the `PolicyFs` interface and can be switched off for
 * explanations (`moat policy test`) that do not depend on the host.
 */
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { nodePolicyFs, type PolicyFs } from "../files/policy-fs.js";
import { compileMounts, type MountEntry } from "../files/mount-table.js";
import type { EffectivePolicy } from "../model/policy.js";
import { compileSecrets, type SecretTable } from "../secrets/secret-table.js";
import { compileNetwork, type NetworkPlan } from "./network.js";

export interface Plan {
  /** Empty when compiled without host checks. */
  mounts: MountEntry[];
  network: NetworkPlan;
  secrets: SecretTable;
  resources: { cpus: number; memoryMiB: number; diskMiB: number };
}

export interface CompileOptions {
  homeDir: string;
  /** Relative mount and secret-file paths resolve against this (the project root). */
  baseDir: string;
  fs?: PolicyFs;
  env?: Readonly<Record<string, string | undefined>>;
  /** Check mounts and secret sources on the host (default true). */
  hostChecks?: boolean;
  /** Check that secret env vars / files exist (default: same as hostChecks). */
  secretSources?: boolean;
  scanLimit?: number;
}

export function compilePlan(policy: EffectivePolicy, options: CompileOptions, bag = new DiagnosticBag()): Plan {
  const fs = options.fs ?? nodePolicyFs;
  const hostChecks = options.hostChecks ?? true;
  const network = compileNetwork(policy, bag);
  const secrets = compileSecrets(policy, network, { env: options.env ?? {}, fs, homeDir: options.homeDir, baseDir: options.baseDir }, bag, options.secretSources ?? hostChecks);
  const mounts = hostChecks
    ? compileMounts(policy, { fs, homeDir: options.homeDir, baseDir: options.baseDir, ...(options.scanLimit ? { scanLimit: options.scanLimit } : {}) }, bag)
    : [];
  return {
    mounts,
    network,
    secrets,
    resources: { cpus: policy.resources.cpus.value, memoryMiB: policy.resources.memoryMiB.value, diskMiB: policy.resources.diskMiB.value },
  };
}
