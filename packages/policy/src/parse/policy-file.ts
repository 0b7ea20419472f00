/**
 * Parses one policy file (YAML, or JSON — JSON is valid YAML 1.2, so one parser keeps positions for
 * both) into a `PolicyLayer`, collecting every syntax and validation problem with its line and column.
 */
import { LineCounter, parseDocument } from "yaml";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { OriginKind } from "../model/origin.js";
import { emptyLayer, type PolicyLayer } from "../model/policy.js";
import { parseFilesSection } from "./files-section.js";
import { TOP_KEYS } from "./keys.js";
import { parseNetworkSection } from "./network-section.js";
import { parseResourcesSection } from "./resources-section.js";
import { parseSecretsSection } from "./secrets-section.js";
import { Walker } from "./walker.js";

export interface ParsedPolicyFile {
  layer: PolicyLayer;
  bag: DiagnosticBag;
}

/** Parses policy text; `file` is used in diagnostics and origins. Never throws on bad input. */
export function parsePolicyText(text: string, file: string, kind: OriginKind = "file", bag = new DiagnosticBag()): ParsedPolicyFile {
  const layer = emptyLayer();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = e.linePos?.[0] ?? (e.pos ? lines.linePos(e.pos[0]) : undefined);
    const d = {
      code: e.code === "DUPLICATE_KEY" ? "duplicate-key" : "yaml-syntax",
      message: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      where: { file, ...(pos ? { line: pos.line, column: pos.col } : {}) },
    };
    const hint = e.code === "DUPLICATE_KEY" ? "each key may appear once in a mapping; merge the two entries" : "check indentation, quotes and that every key is followed by a colon";
    if (e.name === "YAMLWarning") bag.warning(d.code, d.message, d.where, hint);
    else bag.error(d.code, d.message, d.where, hint);
  }
  if (doc.errors.length > 0) return { layer, bag };
  const w = new Walker(file, kind, lines, bag);
  const root = doc.contents;
  if (root === null || (root as { value?: unknown }).value === null) return { layer, bag }; // empty file: an empty layer
  const top = w.map(root, "", TOP_KEYS, "a policy file is a mapping with files, network, secrets and resources");
  if (!top) return { layer, bag };
  const version = top.get("version");
  if (version) w.integer(version.value, "version", 1, 1);
  if (top.has("files")) parseFilesSection(w, top.get("files")!.value, layer);
  if (top.has("network")) parseNetworkSection(w, top.get("network")!.value, layer);
  if (top.has("secrets")) parseSecretsSection(w, top.get("secrets")!.value, layer);
  if (top.has("resources")) parseResourcesSection(w, top.get("resources")!.value, layer);
  return { layer, bag };
}
