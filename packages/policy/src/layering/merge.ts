/**
 * Merges policy layers in order (built-in < user < project < flags): a scalar set by a later layer
 * replaces the earlier one; lists (mounts, globs, rules) are concatenated; a secret of the same name
 * replaces the earlier one; a mount at the same guest path, or of the same host path, replaces the
 * earlier one (so `{host: ., mode: ro}` in a project file replaces the built-in mount of `.`). Paths
 * are compared as written here; mounts that only resolve to the same place (`.` and the project's
 * absolute path) are replaced when the mount table is compiled. The preset chosen
 * last contributes its rules (origin `preset <name>`) ahead of all file rules — deny wins regardless
 * of order, order only picks which rule an explanation names.
 */
import { posix } from "node:path";
import type { EffectivePolicy, MountSpec, PolicyLayer, PresetName } from "../model/policy.js";
import type { Located } from "../model/origin.js";
import { PRESETS } from "../network/presets.js";
import { parseRuleTarget, type NetworkRuleSpec, type Verdict } from "../network/rule.js";
import { BUILTIN_ORIGIN } from "./builtin.js";

function last<T>(layers: readonly PolicyLayer[], pick: (l: PolicyLayer) => Located<T> | undefined, fallback: Located<T>): Located<T> {
  let v = fallback;
  for (const l of layers) v = pick(l) ?? v;
  return v;
}

function presetRules(name: PresetName): NetworkRuleSpec[] {
  const p = PRESETS[name];
  const origin = { kind: "builtin" as const, file: `preset ${name}` };
  const rules: NetworkRuleSpec[] = [];
  for (const [action, list] of [["deny", p.deny], ["allow", p.allow]] as [Verdict, string[]][]) {
    list.forEach((text, i) => {
      const t = parseRuleTarget(text);
      if (!t.ok) throw new Error(`built-in preset ${name} has an invalid rule "${text}": ${t.message}`);
      rules.push({ action, ...t.value, methods: null, paths: null, origin, path: `preset.${name}.${action}[${i}]` });
    });
  }
  return rules;
}

/** `./data/`, `./data` and `data/.` are the same host path; `~/x` stays relative to the home directory. */
function sameHostText(a: string, b: string): boolean {
  const norm = (p: string) => posix.normalize(p).replace(/(.)\/+$/, "$1");
  return norm(a) === norm(b);
}

function sameMount(a: MountSpec, b: MountSpec): boolean {
  return (a.guest !== undefined && a.guest === b.guest) || sameHostText(a.host, b.host);
}

export function mergeLayers(layers: readonly PolicyLayer[]): EffectivePolicy {
  const preset = last<PresetName>(layers, (l) => l.network.preset, { value: "balanced", origin: BUILTIN_ORIGIN, path: "network.preset" });
  const presetOrigin = { kind: "builtin" as const, file: `preset ${preset.value}` };
  const def = PRESETS[preset.value];
  let mounts: MountSpec[] = [];
  const secrets = new Map<string, EffectivePolicy["secrets"][number]>();
  for (const l of layers) {
    for (const m of l.files.mounts) mounts = [...mounts.filter((earlier) => !sameMount(earlier, m)), m];
    for (const s of l.secrets) secrets.set(s.name, s);
  }
  return {
    files: {
      mounts,
      deny: layers.flatMap((l) => l.files.deny),
      readonly: layers.flatMap((l) => l.files.readonly),
      outsideLinks: last(layers, (l) => l.files.outsideLinks, { value: "refuse", origin: BUILTIN_ORIGIN, path: "files.outsideLinks" }),
      allowBroad: last(layers, (l) => l.files.allowBroad, { value: false, origin: BUILTIN_ORIGIN, path: "files.allowBroad" }),
    },
    network: {
      preset,
      default: last(layers, (l) => l.network.default, { value: def.default, origin: presetOrigin, path: "network.default" }),
      directIp: last(layers, (l) => l.network.directIp, { value: def.directIp, origin: presetOrigin, path: "network.directIp" }),
      rules: [...presetRules(preset.value), ...layers.flatMap((l) => l.network.rules)],
    },
    secrets: [...secrets.values()],
    resources: {
      cpus: last(layers, (l) => l.resources.cpus, { value: 2, origin: BUILTIN_ORIGIN, path: "resources.cpus" }),
      memoryMiB: last(layers, (l) => l.resources.memoryMiB, { value: 2048, origin: BUILTIN_ORIGIN, path: "resources.memory" }),
      diskMiB: last(layers, (l) => l.resources.diskMiB, { value: 10240, origin: BUILTIN_ORIGIN, path: "resources.disk" }),
    },
  };
}
