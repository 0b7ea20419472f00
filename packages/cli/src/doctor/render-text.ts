/** Renders a DoctorReport for a terminal: host line, one block per backend, selection, next steps. */
import { type BackendReport, SEE_DOCTOR } from "@moat/core";
import type { DoctorReport } from "./report.js";

function installedLine(backend: BackendReport): string {
  if (!backend.platformSupported && !backend.installed) return "not installed (not for this platform)";
  if (!backend.installed) return "not installed";
  const origin = backend.source === "registered" ? "registered in-process" : `${backend.packageName ?? "?"} ${backend.version ?? ""}`.trim();
  return `installed: ${origin}${backend.contractVersion ? `, contract ${backend.contractVersion}` : ""}`;
}

function statusLine(backend: BackendReport): string {
  if (backend.available) return `available${backend.probe?.features.hardwareAccelerated === false ? " (software emulation)" : ""}${backend.reason ? ` — ${backend.reason}` : ""}`;
  return `unavailable: ${backend.reason ?? "no reason given"}`;
}

function backendBlock(backend: BackendReport): string[] {
  const lines = [`  ${backend.name.padEnd(6)} ${installedLine(backend)}`, `         ${statusLine(backend)}`];
  if (backend.fix) lines.push(`         fix: ${backend.fix}`);
  const probe = backend.probe;
  if (probe) {
    const features = Object.entries(probe.features)
      .filter(([, on]) => on)
      .map(([name]) => name);
    lines.push(`         guests: ${probe.guestArchs.join(", ") || "none"}; features: ${features.join(", ") || "none"}`);
    for (const [key, value] of Object.entries(probe.details ?? {})) lines.push(`         ${key}: ${value}`);
  }
  return lines;
}

export function renderDoctorText(report: DoctorReport): string {
  const { host } = report;
  const lines = [`moat ${host.moat} doctor — host ${host.platform}/${host.arch}, Node ${host.node}, backend contract ${host.contract}`, "", "Backends:"];
  for (const backend of report.backends) lines.push(...backendBlock(backend));
  lines.push("");
  if (report.selected) {
    lines.push(`Selected: ${report.selected.name} (${report.selected.source})`);
    // Here the warning's pointer to moat doctor would point at itself.
    if (report.selected.warning) lines.push(`  ${report.selected.warning.replace(SEE_DOCTOR, "")}`);
  } else {
    lines.push(`Selected: none — ${report.selectionError?.message ?? "no backend"}`);
  }
  lines.push("", "Next:", ...report.next.map((step) => `  - ${step}`));
  return `${lines.join("\n")}\n`;
}
