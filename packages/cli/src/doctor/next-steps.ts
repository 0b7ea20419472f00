/** "What to do next" for `moat doctor`, derived from its report: one actionable line each. */
import type { DoctorReport } from "./report.js";

export function nextSteps(report: DoctorReport): string[] {
  const steps: string[] = [];
  if (report.selected) {
    const slow = report.selected.hardwareAccelerated ? "" : " (software emulation: expect slow boots and CPU-heavy work)";
    steps.push(`moat will run sandboxes on ${report.selected.name}${slow}. Try: pnpm moat run -- uname -a`);
  } else if (report.selectionError) {
    if (report.selectionError.fix) steps.push(report.selectionError.fix);
  }
  const ranked = report.backends.filter((b) => b.candidateRank !== undefined && b.name !== report.selected?.name);
  for (const backend of ranked) {
    if (backend.fix && !steps.includes(backend.fix)) steps.push(`to use ${backend.name}: ${backend.fix}`);
  }
  if (steps.length === 0) steps.push("install a backend for this platform (see README.md, 'Platforms')");
  return steps;
}
