/**
 * The CLI-flags layer (highest precedence): `--allow-host`, `--deny-host`, `--network-preset`,
 * `--network-default`, `--mount host:guest[:ro|rw]`, `--allow-broad`, `--cpus`, `--memory`,
 * `--disk`. Each value is validated like the same setting in a file; diagnostics name the flag.
 */
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { emptyLayer, type PolicyLayer, type PresetName } from "../model/policy.js";
import type { Origin } from "../model/origin.js";
import { parseRuleTarget, type Verdict } from "../network/rule.js";
import { RESOURCE_LIMITS } from "../resources/limits.js";
import { parseSizeMiB } from "../resources/size.js";
import { PRESETS, VERDICTS } from "../parse/keys.js";

export interface PolicyFlags {
  allowHost?: readonly string[];
  denyHost?: readonly string[];
  networkPreset?: string;
  networkDefault?: string;
  mount?: readonly string[];
  allowBroad?: boolean;
  cpus?: number | string;
  memory?: string;
  disk?: string;
}

export function flagsLayer(flags: PolicyFlags, bag: DiagnosticBag): PolicyLayer {
  const layer = emptyLayer();
  const origin = (flag: string): Origin => ({ kind: "flags", file: flag });
  const err = (flag: string, message: string, hint: string) => bag.error("invalid-flag", message, { file: flag }, hint);
  for (const [flag, action, list] of [["--allow-host", "allow", flags.allowHost], ["--deny-host", "deny", flags.denyHost]] as [string, Verdict, readonly string[] | undefined][]) {
    (list ?? []).forEach((text, i) => {
      const t = parseRuleTarget(text);
      if (!t.ok) return err(flag, t.message, t.hint);
      layer.network.rules.push({ action, ...t.value, methods: null, paths: null, origin: origin(flag), path: `${flag}[${i}]` });
    });
  }
  if (flags.networkPreset !== undefined) {
    if ((PRESETS as readonly string[]).includes(flags.networkPreset))
      layer.network.preset = { value: flags.networkPreset as PresetName, origin: origin("--network-preset"), path: "network.preset" };
    else err("--network-preset", `"${flags.networkPreset}" is not a preset`, `use one of ${PRESETS.join(", ")}`);
  }
  if (flags.networkDefault !== undefined) {
    if ((VERDICTS as readonly string[]).includes(flags.networkDefault))
      layer.network.default = { value: flags.networkDefault as Verdict, origin: origin("--network-default"), path: "network.default" };
    else err("--network-default", `"${flags.networkDefault}" is not allow or deny`, "use allow or deny");
  }
  (flags.mount ?? []).forEach((text, i) => {
    const parts = text.split(":");
    const mode = parts.length === 3 ? parts[2] : "rw";
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]?.startsWith("/") || (mode !== "ro" && mode !== "rw"))
      return err("--mount", `"${text}" is not host:guest[:ro|rw]`, "e.g. --mount ./data:/data:ro");
    layer.files.mounts.push({ host: parts[0], guest: parts[1], mode, deny: [], readonly: [], origin: origin("--mount"), path: `--mount[${i}]` });
  });
  if (flags.allowBroad) layer.files.allowBroad = { value: true, origin: origin("--allow-broad"), path: "files.allowBroad" };
  if (flags.cpus !== undefined) {
    const n = Number(flags.cpus);
    const { min, max } = RESOURCE_LIMITS.cpus;
    if (Number.isInteger(n) && n >= min && n <= max) layer.resources.cpus = { value: n, origin: origin("--cpus"), path: "resources.cpus" };
    else err("--cpus", `"${flags.cpus}" is not a whole number from ${min} to ${max}`, "e.g. --cpus 2");
  }
  for (const [flag, value, key] of [["--memory", flags.memory, "memoryMiB"], ["--disk", flags.disk, "diskMiB"]] as const) {
    if (value === undefined) continue;
    const s = parseSizeMiB(value);
    const { min } = RESOURCE_LIMITS[key];
    if (!s.ok || s.mib < min) err(flag, s.ok ? `${s.mib} MiB is below the ${min} MiB minimum` : s.message, s.ok ? `use at least ${min}MiB` : s.hint);
    else layer.resources[key] = { value: s.mib, origin: origin(flag), path: `resources.${key === "memoryMiB" ? "memory" : "disk"}` };
  }
  return layer;
}
