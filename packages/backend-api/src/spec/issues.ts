/**
 * One problem found in a MachineSpec (`field`, offending `value`, `problem`, `fix`), and the
 * INVALID_SPEC error that carries all of them with a message listing each on its own line.
 */
import { BackendError, BackendErrorCode } from "../errors/backend-error.js";

export interface SpecIssue {
  /** Dotted path of the bad field, e.g. "kernel.path" or "disks[1].cache". */
  field: string;
  /** The offending value (undefined when the field is missing). */
  value: unknown;
  /** What is wrong, e.g. "must be an absolute path". */
  problem: string;
  /** How to fix it. */
  fix: string;
}

/** Renders a value for an error message: short, quoted strings, "missing" for undefined. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "string") return JSON.stringify(value.length > 120 ? `${value.slice(0, 117)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === "object" ? "an object" : typeof value;
}

export function formatIssue(issue: SpecIssue): string {
  return `${issue.field} = ${describeValue(issue.value)}: ${issue.problem} (fix: ${issue.fix})`;
}

/** Thrown by `validateMachineSpec()`; `issues` lists every problem, not only the first. */
export class MachineSpecError extends BackendError {
  readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[]) {
    const lines = issues.map((issue) => `  - ${formatIssue(issue)}`);
    super(BackendErrorCode.INVALID_SPEC, `invalid MachineSpec (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`, {
      fix: issues.map((issue) => issue.fix).join("; "),
    });
    this.issues = issues;
  }
}
