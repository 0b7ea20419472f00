/**
 * Helpers that walk a YAML document's node tree (from the `yaml` package) and check it against the
 * expected shape, reporting every problem at the node's line and column. A wrong type or unknown key
 * is reported and skipped so the walk goes on and all problems are found in one pass.
 */
import { closest, distance } from "fastest-levenshtein";
import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type Scalar } from "yaml";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { Origin, OriginKind } from "../model/origin.js";

export type AnyNode = Node | null | undefined;

export interface MapEntry {
  key: Scalar;
  value: AnyNode;
}

export function describeNode(node: AnyNode): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return "null";
    if (typeof v === "number") return `the number ${v}`;
    if (typeof v === "boolean") return `the boolean ${v}`;
    return `the string "${String(v)}"`;
  }
  return "an unsupported value";
}

export class Walker {
  constructor(
    readonly file: string,
    readonly kind: OriginKind,
    private readonly lines: LineCounter,
    readonly bag: DiagnosticBag,
  ) {}

  /** Position of a node (its first character), or of the parent when the node is absent. */
  where(node: AnyNode, path: string, fallback?: AnyNode): { file: string; line?: number; column?: number; path: string } {
    const n = node ?? fallback;
    const offset = n?.range?.[0];
    if (offset === undefined) return { file: this.file, path };
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, path };
  }

  origin(node: AnyNode): Origin {
    const w = this.where(node, "");
    return { kind: this.kind, file: this.file, ...(w.line !== undefined ? { line: w.line, column: w.column! } : {}) };
  }

  error(code: string, node: AnyNode, path: string, message: string, hint?: string): void {
    this.bag.error(code, message, this.where(node, path), hint);
  }

  warning(code: string, node: AnyNode, path: string, message: string, hint?: string): void {
    this.bag.warning(code, message, this.where(node, path), hint);
  }

  private wrongType(node: AnyNode, path: string, expected: string, hint?: string): void {
    if (isScalar(node) && node.value === null && node.source === "~") hint = 'a bare ~ means null in YAML; quote it: "~"';
    this.error("wrong-type", node, path, `${path} must be ${expected}, not ${describeNode(node)}`, hint);
  }

  /** Checks a mapping, reporting unknown keys ("did you mean"); returns its entries by key. */
  map(node: AnyNode, path: string, keys: readonly string[], example?: string): Map<string, MapEntry> | null {
    if (!isMap(node)) {
      this.wrongType(node, path, "a mapping", example);
      return null;
    }
    const out = new Map<string, MapEntry>();
    for (const pair of node.items as Pair<AnyNode, AnyNode>[]) {
      const key = pair.key;
      if (!isScalar(key) || typeof key.value !== "string") {
        this.error("wrong-type", key ?? node, path, `keys in ${path} must be strings, not ${describeNode(key)}`);
        continue;
      }
      const name = key.value;
      if (!keys.includes(name)) {
        this.unknownKey(key, path, name, keys);
        continue;
      }
      out.set(name, { key, value: pair.value });
    }
    return out;
  }

  unknownKey(key: Scalar, path: string, name: string, keys: readonly string[]): void {
    const guess = keys.length > 0 ? closest(name, keys as string[]) : undefined;
    const near = guess !== undefined && distance(name.toLowerCase(), guess.toLowerCase()) <= Math.max(2, Math.floor(guess.length / 3));
    this.error(
      "unknown-key",
      key,
      path ? `${path}.${name}` : name,
      `unknown key "${name}"${path ? ` in ${path}` : ""}`,
      near ? `did you mean "${guess}"?` : `known keys: ${keys.join(", ")}`,
    );
  }

  /** The entries of a mapping whose keys are free-form names (e.g. secrets). */
  namedMap(node: AnyNode, path: string): MapEntry[] | null {
    if (!isMap(node)) {
      this.wrongType(node, path, "a mapping of names");
      return null;
    }
    const out: MapEntry[] = [];
    for (const pair of node.items as Pair<AnyNode, AnyNode>[]) {
      if (!isScalar(pair.key) || typeof pair.key.value !== "string") {
        this.error("wrong-type", pair.key ?? node, path, `names in ${path} must be strings, not ${describeNode(pair.key)}`);
        continue;
      }
      out.push({ key: pair.key, value: pair.value });
    }
    return out;
  }

  seq(node: AnyNode, path: string, example?: string): AnyNode[] | null {
    if (!isSeq(node)) {
      this.wrongType(node, path, "a list", example);
      return null;
    }
    return node.items as AnyNode[];
  }

  /** A list, or a single item standing for a one-item list. */
  seqOrOne(node: AnyNode): AnyNode[] {
    return isSeq(node) ? (node.items as AnyNode[]) : [node];
  }

  string(node: AnyNode, path: string, hint?: string): string | null {
    if (isScalar(node) && typeof node.value === "string" && node.value.length > 0) return node.value;
    this.wrongType(node, path, "a non-empty string", hint);
    return null;
  }

  /** A string or a number written as a string (ports, sizes). */
  text(node: AnyNode, path: string, hint?: string): string | null {
    if (isScalar(node) && (typeof node.value === "string" || typeof node.value === "number")) return String(node.value);
    this.wrongType(node, path, "a string or number", hint);
    return null;
  }

  boolean(node: AnyNode, path: string): boolean | null {
    if (isScalar(node) && typeof node.value === "boolean") return node.value;
    this.wrongType(node, path, "true or false");
    return null;
  }

  integer(node: AnyNode, path: string, min: number, max: number): number | null {
    if (isScalar(node) && typeof node.value === "number" && Number.isInteger(node.value)) {
      if (node.value >= min && node.value <= max) return node.value;
      this.error("out-of-range", node, path, `${path} is ${node.value}, outside ${min}..${max}`, `use a whole number from ${min} to ${max}`);
      return null;
    }
    this.wrongType(node, path, `a whole number (${min}..${max})`);
    return null;
  }

  oneOf<T extends string>(node: AnyNode, path: string, values: readonly T[]): T | null {
    if (isScalar(node) && typeof node.value === "string" && (values as readonly string[]).includes(node.value)) return node.value as T;
    const given = isScalar(node) ? String(node.value) : undefined;
    const guess = given !== undefined ? closest(given, values as unknown as string[]) : undefined;
    this.error(
      "invalid-value",
      node,
      path,
      `${path} must be one of ${values.join(" | ")}, not ${describeNode(node)}`,
      guess !== undefined && distance(given!, guess) <= 3 ? `did you mean "${guess}"?` : undefined,
    );
    return null;
  }
}
