/**
 * Backend selection (README "Usage"; docs/ARCHITECTURE.md): an explicit name (option, else MOAT_BACKEND) is loaded and must be
 * available; otherwise registered backends, then the platform's candidates (linux: kvm, then qemu)
 * are tried in order and the first whose probe says it can boot guests wins. When none can, the
 * error diagnoses every candidate. Choosing a later candidate than the first carries a warning.
 */
import { BackendError, BackendErrorCode, isBackendError, type Backend, type ProbeResult } from "@moat/backend-api";
import { platformCandidates } from "./known-backends.js";
import { loadBackendWithInfo, type BackendSearchOptions, type LoadedBackend } from "./load-backend.js";
import { DEFAULT_PROBE_TIMEOUT_MS, probeBackend } from "./probe-backend.js";
import { registeredBackendNames } from "./registry.js";

export interface ChooseBackendOptions extends BackendSearchOptions {
  /** A backend name chosen by the caller (e.g. `--backend`); wins over everything. */
  explicit?: string;
  /** Environment to read MOAT_BACKEND from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Names to try in order when none is chosen (default: registered backends, then the platform's). */
  candidates?: readonly string[];
  probeTimeoutMs?: number;
}

/** How one candidate fared. */
export interface CandidateVerdict {
  name: string;
  /** Set when the backend loaded. */
  loaded?: LoadedBackend;
  probe?: ProbeResult;
  /** Set when loading or probing failed. */
  error?: BackendError;
}

export interface BackendChoice {
  name: string;
  backend: Backend;
  probe: ProbeResult;
  loaded: LoadedBackend;
  /** Why this backend: named by the caller, by MOAT_BACKEND, or picked from the candidates. */
  source: "option" | "env" | "candidates";
  /** One line for the user when moat fell back from the preferred candidate. */
  warning?: string;
  /** Every candidate considered, in order (only the chosen one for an explicit choice). */
  considered: CandidateVerdict[];
}

async function judge(name: string, options: ChooseBackendOptions): Promise<CandidateVerdict> {
  try {
    const loaded = await loadBackendWithInfo(name, options);
    const probe = await probeBackend(loaded.backend, options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
    return { name, loaded, probe };
  } catch (error) {
    if (isBackendError(error)) return { name, error: error as BackendError };
    throw error;
  }
}

/** "kvm: /dev/kvm is missing — fix: ..." for one candidate that cannot run guests. */
export function describeVerdict(verdict: CandidateVerdict): string {
  if (verdict.error) return `${verdict.name}: ${verdict.error.message}${verdict.error.fix ? ` (fix: ${verdict.error.fix})` : ""}`;
  const origin = verdict.loaded?.packageName ? `${verdict.loaded.packageName} ${verdict.loaded.version ?? ""}`.trim() : "registered";
  if (verdict.probe?.available) return `${verdict.name} (${origin}): available`;
  return `${verdict.name} (${origin}): installed but cannot run guests here: ${verdict.probe?.reason ?? "no reason given"}${verdict.probe?.fix ? ` (fix: ${verdict.probe.fix})` : ""}`;
}

/** The fallback warning's pointer to moat doctor (which leaves it out when it shows the warning itself). */
export const SEE_DOCTOR = "Details: moat doctor; ";

function fallbackWarning(first: CandidateVerdict, chosen: CandidateVerdict): string {
  const reason = first.error?.code === BackendErrorCode.NOT_INSTALLED ? "it is not installed" : (first.error?.message ?? first.probe?.reason ?? "it is unavailable");
  // The headline only ("nested KVM without hardware virtualization: ..."): the probe's detail in
  // parentheses is for moat doctor, not for a warning printed on every start.
  const why = reason.replace(/ \(.*$/s, "");
  const speed = chosen.probe?.features.hardwareAccelerated ? "" : " (software emulation: much slower)";
  return `moat: ${first.name} cannot run guests here (${why}); using ${chosen.name}${speed}. ${SEE_DOCTOR}MOAT_BACKEND=${chosen.name} picks it without this notice.`;
}

/** Tries `names` in order; returns the first available, else throws a diagnosis of all of them. */
export async function chooseFirstAvailable(names: readonly string[], options: ChooseBackendOptions = {}): Promise<BackendChoice> {
  const platform = `${options.platform ?? process.platform}/${options.arch ?? process.arch}`;
  if (names.length === 0) {
    throw new BackendError(BackendErrorCode.NOT_INSTALLED, `no backend is known for this platform (${platform}) and none is registered`, {
      fix: "install a backend package (moat-backend-<name>) and set MOAT_BACKEND=<name>",
    });
  }
  const considered: CandidateVerdict[] = [];
  for (const name of names) {
    const verdict = await judge(name, options);
    considered.push(verdict);
    if (verdict.loaded && verdict.probe?.available) {
      const choice: BackendChoice = { name, backend: verdict.loaded.backend, probe: verdict.probe, loaded: verdict.loaded, source: "candidates", considered };
      if (considered.length > 1) choice.warning = fallbackWarning(considered[0]!, verdict);
      return choice;
    }
  }
  const anyInstalled = considered.some((v) => v.loaded || (v.error && v.error.code !== BackendErrorCode.NOT_INSTALLED));
  // Each line above carries its backend's own fix; one of them alone can read as circular ("or use
  // the qemu backend" when qemu is the broken one), so the fix points at all of them.
  const anyFix = considered.some((v) => (v.error?.fix ?? v.probe?.fix) !== undefined);
  const firstRealError = considered.find((v) => v.error && v.error.code !== BackendErrorCode.NOT_INSTALLED)?.error;
  throw new BackendError(
    anyInstalled ? BackendErrorCode.UNAVAILABLE : BackendErrorCode.NOT_INSTALLED,
    `no backend can run guests on this host (${platform}); tried ${names.join(", ")}:\n${considered.map((v) => `  - ${describeVerdict(v)}`).join("\n")}`,
    { fix: `${anyFix ? "make one of the backends above work (each line ends with its fix); " : ""}moat doctor shows every backend's state`, ...(firstRealError ? { cause: firstRealError } : {}) },
  );
}

/** Picks the backend a sandbox runs on (see module comment). */
export async function chooseBackend(options: ChooseBackendOptions = {}): Promise<BackendChoice> {
  const fromEnv = (options.env ?? process.env).MOAT_BACKEND?.trim();
  const explicit = options.explicit?.trim() || undefined;
  const named = explicit ?? (fromEnv || undefined);
  if (named === undefined) {
    const names = options.candidates ?? [...new Set([...registeredBackendNames(), ...platformCandidates(options.platform ?? process.platform)])];
    return chooseFirstAvailable(names, options);
  }
  const source = explicit !== undefined ? "option" : "env";
  const chosenBy = source === "option" ? "chosen explicitly" : `chosen by MOAT_BACKEND=${named}`;
  let loaded: LoadedBackend;
  try {
    loaded = await loadBackendWithInfo(named, options);
  } catch (error) {
    if (isBackendError(error) && source === "env") error.message = `${error.message} (${chosenBy})`;
    throw error;
  }
  const probe = await probeBackend(loaded.backend, options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  if (!probe.available) {
    throw new BackendError(BackendErrorCode.UNAVAILABLE, `backend "${named}" (${chosenBy}) cannot run guests here: ${probe.reason ?? "its probe gives no reason"}`, {
      backend: named,
      fix: `${probe.fix ? `${probe.fix}; or ` : ""}${source === "env" ? "unset MOAT_BACKEND" : "leave out --backend"} to let moat pick a backend that works here (moat doctor lists them)`,
    });
  }
  return { name: named, backend: loaded.backend, probe, loaded, source, considered: [{ name: named, loaded, probe }] };
}
