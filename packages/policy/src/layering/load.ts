/**
 * Finds, parses, layers and compiles the policy a sandbox runs under:
 * built-in defaults < user file (`$XDG_CONFIG_HOME/moat/policy.yaml`, default `~/.config/moat/`)
 * < project file (`.moat/policy.yaml` in the working directory or the nearest parent) < CLI flags.
 * `loadEffectivePolicy` is the one entry point `@moat/core` uses; it refuses nothing itself — the
 * caller refuses to start when `ok` is false and prints the diagnostics.
 */
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DiagnosticBag, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { nodePolicyFs, type PolicyFs } from "../files/policy-fs.js";
import type { EffectivePolicy, PolicyLayer } from "../model/policy.js";
import type { OriginKind } from "../model/origin.js";
import { parsePolicyText } from "../parse/policy-file.js";
import { compilePlan, type Plan } from "../compile/plan.js";
import { builtinLayer } from "./builtin.js";
import { flagsLayer, type PolicyFlags } from "./flags.js";
import { mergeLayers } from "./merge.js";

export const POLICY_FILE_NAMES = ["policy.yaml", "policy.yml", "policy.json"] as const;

export interface LoadOptions {
  cwd: string;
  flags?: PolicyFlags;
  env?: Readonly<Record<string, string | undefined>>;
  homeDir?: string;
  fs?: PolicyFs;
  /** Check mounts and secret sources on the host (default true). */
  hostChecks?: boolean;
  /** Check that secret env vars / files exist (default: same as hostChecks). */
  secretSources?: boolean;
}

export interface LoadedFile {
  kind: OriginKind;
  path: string;
  text: string;
}

export interface LoadResult {
  policy: EffectivePolicy;
  plan: Plan;
  diagnostics: Diagnostic[];
  /** True when there is no error-severity diagnostic: the sandbox may start. */
  ok: boolean;
  /** The policy files that took part, in layer order (texts for code frames). */
  files: LoadedFile[];
  projectRoot: string;
}

/** The user policy directory: `$XDG_CONFIG_HOME/moat` or `~/.config/moat`. */
export function userPolicyDir(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && xdg.startsWith("/") ? xdg : join(homeDir, ".config"), "moat");
}

function findIn(dir: string, fs: PolicyFs, bag: DiagnosticBag): string | null {
  const found = POLICY_FILE_NAMES.map((n) => join(dir, n)).filter((p) => fs.stat(p)?.type === "file");
  if (found.length > 1) bag.warning("several-policy-files", `${dir} has ${found.length} policy files; using ${found[0]}`, { file: found[1]! }, "keep only one");
  return found[0] ?? null;
}

/** The nearest `.moat/` directory with a policy file, from `cwd` upwards. */
export function findProjectPolicy(cwd: string, fs: PolicyFs, bag = new DiagnosticBag()): { file: string; root: string } | null {
  let dir = resolve(cwd);
  for (;;) {
    const file = findIn(join(dir, ".moat"), fs, bag);
    if (file) return { file, root: dir };
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function loadEffectivePolicy(options: LoadOptions): LoadResult {
  const fs = options.fs ?? nodePolicyFs;
  const env = options.env ?? process.env;
  const homeDir = options.homeDir ?? homedir();
  const bag = new DiagnosticBag();
  const layers: PolicyLayer[] = [builtinLayer()];
  const files: LoadedFile[] = [];
  const read = (path: string, kind: OriginKind) => {
    const text = fs.readFile(path);
    if (text === null) {
      bag.error("unreadable-policy", `cannot read ${path}`, { file: path }, "check the file's permissions");
      return;
    }
    files.push({ kind, path, text });
    layers.push(parsePolicyText(text, path, kind, bag).layer);
  };
  const userFile = findIn(userPolicyDir(env, homeDir), fs, bag);
  if (userFile) read(userFile, "user");
  const project = findProjectPolicy(options.cwd, fs, bag);
  if (project) read(project.file, "project");
  layers.push(flagsLayer(options.flags ?? {}, bag));
  const policy = mergeLayers(layers);
  const projectRoot = project?.root ?? resolve(options.cwd);
  const plan = compilePlan(policy, { homeDir, baseDir: projectRoot, fs, env, hostChecks: options.hostChecks ?? true, ...(options.secretSources !== undefined ? { secretSources: options.secretSources } : {}) }, bag);
  return { policy, plan, diagnostics: sortDiagnostics(bag.items), ok: !bag.hasErrors(), files, projectRoot };
}
