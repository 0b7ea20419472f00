/** The benchmark's report: a table of medians and spread per contender, the ratio, and the JSON. */
import type { BootSample } from "./contenders/index.js";
import { summarize, type Summary } from "./stats.js";

export interface ContenderResult {
  name: string;
  unavailable?: string;
  error?: string;
  samples: BootSample[];
}

export interface BootReport {
  benchmark: "boot";
  runs: number;
  memoryMiB: number;
  kernel: string;
  contenders: {
    name: string;
    unavailable?: string;
    error?: string;
    readyMs?: Summary;
    guestUptimeMs?: Summary;
    vmmOverheadMiB?: Summary;
    totalRssMiB?: Summary;
    /** Of the overhead: the VMM process's RSS before it loaded the VMM (moat: Node itself). */
    runtimeBaselineMiB?: Summary;
  }[];
  /** median readyMs of moat-kvm / median readyMs of qemu-microvm (lower is better for moat). */
  ratioMoatToQemu?: number;
  /** median VMM RSS overhead of moat-kvm / that of qemu-microvm (lower is better for moat). */
  overheadRatioMoatToQemu?: number;
}

const MiB = 1024 * 1024;

export function buildReport(results: ContenderResult[], runs: number, memoryMiB: number, kernel: string): BootReport {
  const contenders = results.map((r) => ({
    name: r.name,
    unavailable: r.unavailable,
    error: r.error,
    readyMs: summarize(r.samples.map((s) => s.readyMs)),
    guestUptimeMs: summarize(r.samples.map((s) => s.guestUptimeS * 1000)),
    vmmOverheadMiB: summarize(r.samples.flatMap((s) => (s.rss && Number.isFinite(s.rss.overheadBytes) ? [s.rss.overheadBytes / MiB] : []))),
    totalRssMiB: summarize(r.samples.flatMap((s) => (s.rss ? [s.rss.totalRssBytes / MiB] : []))),
    runtimeBaselineMiB: summarize(r.samples.flatMap((s) => (s.rss?.runtimeBaselineBytes !== undefined ? [s.rss.runtimeBaselineBytes / MiB] : []))),
  }));
  const moat = contenders.find((c) => c.name === "moat-kvm")?.readyMs?.median;
  const qemu = contenders.find((c) => c.name === "qemu-microvm")?.readyMs?.median;
  const moatOverhead = contenders.find((c) => c.name === "moat-kvm")?.vmmOverheadMiB?.median;
  const qemuOverhead = contenders.find((c) => c.name === "qemu-microvm")?.vmmOverheadMiB?.median;
  return {
    benchmark: "boot",
    runs,
    memoryMiB,
    kernel,
    contenders,
    ratioMoatToQemu: moat && qemu ? moat / qemu : undefined,
    overheadRatioMoatToQemu: moatOverhead && qemuOverhead ? moatOverhead / qemuOverhead : undefined,
  };
}

function cell(summary: Summary | undefined, digits = 0): string {
  if (!summary) return "-";
  return `${summary.median.toFixed(digits)} (${summary.min.toFixed(digits)}–${summary.max.toFixed(digits)})`;
}

export function formatReport(report: BootReport): string {
  const header = ["contender", "runs", "ready ms: median (min–max)", "guest uptime ms", "VMM RSS overhead MiB", "total RSS MiB"];
  const rows = report.contenders.map((c) =>
    c.unavailable || c.error
      ? [c.name, "0", `not run: ${c.unavailable ?? c.error}`, "", "", ""]
      : [c.name, String(c.readyMs?.runs ?? 0), cell(c.readyMs), cell(c.guestUptimeMs), cell(c.vmmOverheadMiB, 1), cell(c.totalRssMiB, 1)],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i]!.startsWith("not run") ? 0 : r[i]!.length))));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  const ratio = report.ratioMoatToQemu === undefined ? "n/a (moat-kvm did not run)" : `${report.ratioMoatToQemu.toFixed(2)}x (moat-kvm / qemu-microvm, lower is better)`;
  const overheadRatio =
    report.overheadRatioMoatToQemu === undefined ? "n/a (no overhead measured for one of them)" : `${report.overheadRatioMoatToQemu.toFixed(2)}x (moat-kvm / qemu-microvm, lower is better)`;
  return [
    `boot to ready marker: ${report.runs} interleaved runs each, ${report.memoryMiB} MiB guest, kernel ${report.kernel}`,
    line(header),
    ...rows.map(line),
    `ratio of median ready times: ${ratio}`,
    `ratio of median VMM RSS overheads: ${overheadRatio}`,
    ...report.contenders.flatMap((c) =>
      c.runtimeBaselineMiB ? [`${c.name}: ${c.runtimeBaselineMiB.median.toFixed(1)} MiB of its overhead is its process before the VMM loaded (the JS runtime)`] : [],
    ),
  ].join("\n");
}
