/**
 * Renders diagnostics for people (`file:line:col: error[code]: message`, the source line with a
 * caret under the column, then the hint) in the style compilers use, so editors can jump to them.
 */
import type { Diagnostic } from "./diagnostic.js";

/** Formats one diagnostic; `sources` maps a file path to its text for the code frame. */
export function formatDiagnostic(d: Diagnostic, sources?: ReadonlyMap<string, string>): string {
  const where = [d.file ?? "<policy>", d.line, d.column].filter((x) => x !== undefined).join(":");
  const lines = [`${where}: ${d.severity}[${d.code}]: ${d.message}`];
  const text = d.file ? sources?.get(d.file) : undefined;
  if (text !== undefined && d.line !== undefined) {
    const src = text.split(/\r?\n/)[d.line - 1];
    if (src !== undefined) {
      const gutter = String(d.line);
      lines.push(`  ${gutter} | ${src}`);
      if (d.column !== undefined) lines.push(`  ${" ".repeat(gutter.length)} | ${" ".repeat(Math.max(0, d.column - 1))}^`);
    }
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join("\n");
}

/** Formats a list and a closing summary line (`2 errors, 1 warning`, then `, 1 note` if there are notes). */
export function formatDiagnostics(list: readonly Diagnostic[], sources?: ReadonlyMap<string, string>): string {
  const body = list.map((d) => formatDiagnostic(d, sources));
  const count = (severity: Diagnostic["severity"]) => {
    const n = list.filter((d) => d.severity === severity).length;
    return `${n} ${severity}${n === 1 ? "" : "s"}`;
  };
  const notes = list.some((d) => d.severity === "note") ? `, ${count("note")}` : "";
  body.push(`${count("error")}, ${count("warning")}${notes}`);
  return body.join("\n");
}
