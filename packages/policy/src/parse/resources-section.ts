/** Parses the `resources` section within RESOURCE_LIMITS: cpus (1..64), memory (128 MiB .. 1 TiB), disk (64 MiB .. 16 TiB). */
import type { PolicyLayer } from "../model/policy.js";
import { RESOURCE_LIMITS } from "../resources/limits.js";
import { parseSizeMiB } from "../resources/size.js";
import { RESOURCES_KEYS } from "./keys.js";
import type { AnyNode, Walker } from "./walker.js";

const LIMITS = { memory: RESOURCE_LIMITS.memoryMiB, disk: RESOURCE_LIMITS.diskMiB } as const;

export function parseResourcesSection(w: Walker, node: AnyNode, layer: PolicyLayer): void {
  const m = w.map(node, "resources", RESOURCES_KEYS);
  if (!m) return;
  const cpus = m.get("cpus");
  if (cpus) {
    const v = w.integer(cpus.value, "resources.cpus", RESOURCE_LIMITS.cpus.min, RESOURCE_LIMITS.cpus.max);
    if (v !== null) layer.resources.cpus = { value: v, origin: w.origin(cpus.value), path: "resources.cpus" };
  }
  for (const key of ["memory", "disk"] as const) {
    const e = m.get(key);
    if (!e) continue;
    const path = `resources.${key}`;
    const text = w.text(e.value, path, 'e.g. "2GiB"');
    if (text === null) continue;
    const s = parseSizeMiB(text);
    if (!s.ok) {
      w.error("invalid-size", e.value, path, s.message, s.hint);
      continue;
    }
    const { min, max } = LIMITS[key];
    if (s.mib < min || s.mib > max) {
      w.error("out-of-range", e.value, path, `${path} is ${s.mib} MiB, outside ${min}..${max} MiB`, `use at least ${min}MiB`);
      continue;
    }
    const located = { value: s.mib, origin: w.origin(e.value), path };
    if (key === "memory") layer.resources.memoryMiB = located;
    else layer.resources.diskMiB = located;
  }
}
