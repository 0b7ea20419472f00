/**
 * The built-in defaults, the lowest policy layer: the project folder mounted read-write at the
 * same path in the guest as on the host (no `guest`), with secrets-looking files hidden and git
 * hooks/config read-only, in nested repositories and submodules too (a hook or core.fsmonitor
 * written by the agent would otherwise run on the host at the next git command) and `.moat/`
 * read-only (the agent must not edit the policy it will run under next time), the `balanced`
 * network preset, outside links refused, and 2 vCPUs / 2 GiB memory / 10 GiB disk.
 */
import { emptyLayer, type PolicyLayer } from "../model/policy.js";
import type { Origin } from "../model/origin.js";

export const BUILTIN_ORIGIN: Origin = { kind: "builtin", file: "defaults" };

export function builtinLayer(): PolicyLayer {
  const at = (path: string) => ({ origin: BUILTIN_ORIGIN, path });
  const layer = emptyLayer();
  layer.files.mounts.push({ host: ".", mode: "rw", deny: [], readonly: [], ...at("files.mounts[0]") });
  layer.files.deny.push(...["**/.env", "**/.env.local", "**/.env.*.local"].map((glob, i) => ({ glob, ...at(`files.deny[${i}]`) })));
  layer.files.readonly.push(...["**/.git/hooks/**", "**/.git/config", "**/.git/modules/**", ".moat/**"].map((glob, i) => ({ glob, ...at(`files.readonly[${i}]`) })));
  layer.files.outsideLinks = { value: "refuse", ...at("files.outsideLinks") };
  layer.files.allowBroad = { value: false, ...at("files.allowBroad") };
  layer.network.preset = { value: "balanced", ...at("network.preset") };
  layer.resources.cpus = { value: 2, ...at("resources.cpus") };
  layer.resources.memoryMiB = { value: 2048, ...at("resources.memory") };
  layer.resources.diskMiB = { value: 10240, ...at("resources.disk") };
  return layer;
}
