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

/** Formats a list and a closing summary line (`2 errors, 1 warning`). */
export function formatDiagnostics(list: readonly Diagnostic[], sources?: ReadonlyMap<string, string>): string {
  const body = list.map((d) => formatDiagnostic(d, sources));
  const errors = list.filter((d) => d.severity === "error").length;
  const warnings = list.length - errors;
  body.push(`${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`);
  return body.join("\n");
}
