/** Renders an error for the terminal: "moat: <message>", then "fix: ..." when the error names one. */
export function formatError(error: unknown, debug: boolean): string {
  const e = error as { message?: string; fix?: string; stack?: string; cause?: unknown };
  const lines = [`moat: ${e?.message ?? String(error)}`];
  if (e?.fix) lines.push(`fix: ${e.fix}`);
  if (debug) {
    if (e?.stack) lines.push(e.stack);
    if (e?.cause) lines.push(`cause: ${e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause)}`);
  } else if (e?.cause) {
    lines.push("(run with --debug for the underlying error)");
  }
  return `${lines.join("\n")}\n`;
}
