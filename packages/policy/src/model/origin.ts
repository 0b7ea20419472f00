/**
 * Where a setting came from. The effective policy is layered (built-in defaults < user file <
 * project file < CLI flags) and every rule, mount and secret keeps its origin so `moat policy show`
 * and every decision can say which file and line (or flag) is responsible.
 */

export type OriginKind = "builtin" | "user" | "project" | "flags" | "file";

export interface Origin {
  kind: OriginKind;
  /** The policy file path, or a label such as `preset balanced` or `--allow-host`. */
  file: string;
  line?: number;
  column?: number;
}

/** `project .moat/policy.yaml:12:5`, `flags --deny-host`, `builtin preset balanced`. */
export function describeOrigin(o: Origin): string {
  const pos = o.line !== undefined ? `:${o.line}${o.column !== undefined ? `:${o.column}` : ""}` : "";
  return `${o.kind} ${o.file}${pos}`;
}

/** A value together with where it was set and its path inside the policy (e.g. `network.default`). */
export interface Located<T> {
  value: T;
  origin: Origin;
  path: string;
}
