/**
 * Diagnostics: every problem the policy engine finds (bad syntax, unknown keys, invalid patterns,
 * refused mounts) becomes one `Diagnostic` carrying where it is (file, line, column), what is wrong
 * and a hint saying how to fix it. Validation collects all of them instead of stopping at the first.
 */

/** `error` refuses the start; `warning` is a likely mistake; `note` is worth knowing, nothing is wrong. */
export type Severity = "error" | "warning" | "note";

/** A position in a policy file (1-based line and column), or the non-file source of a setting. */
export interface SourceLocation {
  /** Path of the policy file, or a label such as `--allow-host` or `builtin` for non-file sources. */
  file: string;
  line?: number;
  column?: number;
}

export interface Diagnostic extends Partial<SourceLocation> {
  severity: Severity;
  /** Stable machine-readable code, e.g. `unknown-key`, `invalid-cidr`, `mount-missing`. */
  code: string;
  message: string;
  /** How to fix it. */
  hint?: string;
  /** Dotted path of the setting inside the policy, e.g. `network.allow[2]`. */
  path?: string;
}

/** Collects diagnostics while a policy is parsed, merged and compiled. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  error(code: string, message: string, where: Partial<SourceLocation> & { path?: string }, hint?: string): void {
    this.items.push({ severity: "error", code, message, ...where, ...(hint ? { hint } : {}) });
  }

  warning(code: string, message: string, where: Partial<SourceLocation> & { path?: string }, hint?: string): void {
    this.items.push({ severity: "warning", code, message, ...where, ...(hint ? { hint } : {}) });
  }

  note(code: string, message: string, where: Partial<SourceLocation> & { path?: string }, hint?: string): void {
    this.items.push({ severity: "note", code, message, ...where, ...(hint ? { hint } : {}) });
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === "error");
  }

  get warnings(): Diagnostic[] {
    return this.items.filter((d) => d.severity === "warning");
  }

  hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }
}

/** Orders diagnostics by file, line and column so reports read top to bottom. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      (a.file ?? "").localeCompare(b.file ?? "") ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}
