/**
 * Plain-text rendering of an effective policy, every entry followed by where it came from. A mount
 * is shown at its guest path: for one without `guest`, the host path it appears at in the guest
 * (known once the mount table is compiled; until then `(same path as host)`).
 */
import type { EffectivePolicy } from "../model/policy.js";
import type { MountEntry } from "../files/mount-table.js";
import { describeOrigin, type Origin } from "../model/origin.js";
import { formatHostPattern } from "../network/host.js";
import { formatRule } from "../network/rule.js";
import { formatMiB } from "../resources/size.js";

const from = (o: Origin) => `  (${describeOrigin(o)})`;

/** `mounts` (the compiled mount table, when host checks ran) adds each mount's real host path. */
export function describePolicy(p: EffectivePolicy, mounts: readonly MountEntry[] = []): string {
  const out: string[] = [];
  out.push("files:");
  out.push("  mounts:");
  for (const m of p.files.mounts) {
    const entry = mounts.find((e) => e.spec === m);
    const guest = entry?.guestPath ?? m.guest ?? "(same path as host)";
    const real = entry && entry.hostPath !== m.host && entry.hostPath !== guest ? ` (${entry.hostPath})` : "";
    out.push(`    ${guest} <- ${m.host}${real} ${m.mode}${from(m.origin)}`);
  }
  for (const g of p.files.deny) out.push(`  deny ${g.glob}${from(g.origin)}`);
  for (const g of p.files.readonly) out.push(`  readonly ${g.glob}${from(g.origin)}`);
  out.push(`  outsideLinks: ${p.files.outsideLinks.value}${from(p.files.outsideLinks.origin)}`);
  out.push(`  allowBroad: ${p.files.allowBroad.value}${from(p.files.allowBroad.origin)}`);
  out.push("network:");
  out.push(`  preset: ${p.network.preset.value}${from(p.network.preset.origin)}`);
  out.push(`  default: ${p.network.default.value}${from(p.network.default.origin)}`);
  out.push(`  directIp: ${p.network.directIp.value}${from(p.network.directIp.origin)}`);
  out.push("  rules (deny wins; for the same action the earliest is named):");
  for (const r of p.network.rules) out.push(`    ${formatRule(r)}${from(r.origin)}`);
  out.push("secrets:");
  for (const s of p.secrets) {
    const src = "env" in s.from ? `env ${s.from.env}` : `file ${s.from.file}`;
    const how = s.header ? `header ${s.header}: "${s.format}"` : `replace "${s.placeholder}"`;
    out.push(`  ${s.name}: ${src} -> ${how} for ${s.hosts.map((h) => formatHostPattern(h.pattern)).join(", ")}${from(s.origin)}`);
  }
  const r = p.resources;
  out.push("resources:");
  out.push(`  cpus: ${r.cpus.value}${from(r.cpus.origin)}`);
  out.push(`  memory: ${formatMiB(r.memoryMiB.value)}${from(r.memoryMiB.origin)}`);
  out.push(`  disk: ${formatMiB(r.diskMiB.value)}${from(r.diskMiB.origin)}`);
  return out.join("\n");
}

/**
 * JSON form of the effective policy with origins (rules as text). A mount's `guest` is as written
 * (null: the same path as the host); with the compiled `mounts`, `hostPath` and `guestPath` say where
 * it really is.
 */
export function policyToJson(p: EffectivePolicy, mounts: readonly MountEntry[] = []): unknown {
  const compiled = (m: EffectivePolicy["files"]["mounts"][number]) => {
    const entry = mounts.find((e) => e.spec === m);
    return entry ? { hostPath: entry.hostPath, guestPath: entry.guestPath } : {};
  };
  return {
    files: {
      mounts: p.files.mounts.map((m) => ({ host: m.host, guest: m.guest ?? null, ...compiled(m), mode: m.mode, deny: m.deny.map((g) => g.glob), readonly: m.readonly.map((g) => g.glob), origin: m.origin })),
      deny: p.files.deny.map((g) => ({ glob: g.glob, origin: g.origin })),
      readonly: p.files.readonly.map((g) => ({ glob: g.glob, origin: g.origin })),
      outsideLinks: p.files.outsideLinks,
      allowBroad: p.files.allowBroad,
    },
    network: {
      preset: p.network.preset,
      default: p.network.default,
      directIp: p.network.directIp,
      rules: p.network.rules.map((r) => ({ rule: formatRule(r), origin: r.origin })),
    },
    secrets: p.secrets.map((s) => ({ name: s.name, from: s.from, hosts: s.hosts.map((h) => h.text), header: s.header, format: s.format, placeholder: s.placeholder, origin: s.origin })),
    resources: { cpus: p.resources.cpus, memoryMiB: p.resources.memoryMiB, diskMiB: p.resources.diskMiB },
  };
}
