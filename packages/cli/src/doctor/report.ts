/**
 * Collects what `moat doctor` shows: host facts, one report per backend (from @moat/core), which
 * backend a sandbox would get right now (or why none), and what to do next.
 */
import { CONTRACT_VERSION } from "@moat/backend-api";
import { chooseBackend, inspectBackends, platformCandidates, type BackendReport, type InspectOptions } from "@moat/core";
import { nextSteps } from "./next-steps.js";

export interface DoctorReport {
  host: { platform: string; arch: string; node: string; moat: string; contract: string };
  backends: BackendReport[];
  /** The backend `moat run` would use now, or null with the reason. */
  selected: { name: string; hardwareAccelerated: boolean; source: string; warning?: string } | null;
  selectionError?: { code: string; message: string; fix?: string };
  next: string[];
}

export interface DoctorOptions extends InspectOptions {
  env?: Readonly<Record<string, string | undefined>>;
  moatVersion: string;
}

export async function collectDoctorReport(options: DoctorOptions): Promise<DoctorReport> {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const backends = await inspectBackends(options);
  const byRank = (a: BackendReport, b: BackendReport) => (a.candidateRank ?? 99) - (b.candidateRank ?? 99) || a.name.localeCompare(b.name);
  backends.sort(byRank);
  const report: DoctorReport = {
    host: { platform, arch, node: process.version, moat: options.moatVersion, contract: CONTRACT_VERSION },
    backends,
    selected: null,
    next: [],
  };
  try {
    const choice = await chooseBackend({ ...options, ...(options.env ? { env: options.env } : {}) });
    report.selected = {
      name: choice.name,
      hardwareAccelerated: choice.probe.features.hardwareAccelerated,
      source: choice.source === "env" ? "MOAT_BACKEND" : choice.source === "option" ? "--backend" : `first available of ${platformCandidates(platform).join(", ")}`,
      ...(choice.warning ? { warning: choice.warning } : {}),
    };
  } catch (error) {
    const e = error as { code?: string; message?: string; fix?: string };
    report.selectionError = { code: e.code ?? "UNKNOWN", message: e.message ?? String(error), ...(e.fix ? { fix: e.fix } : {}) };
  }
  report.next = nextSteps(report);
  return report;
}
