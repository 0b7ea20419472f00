/**
 * Parses the `files` section: mounts (host → guest, ro/rw, per-mount deny/readonly globs), global
 * deny and readonly globs, the rule for links pointing outside a mount, and `allowBroad`.
 * A mount without `guest` appears in the guest at the same path as on the host; that path, like
 * every host path, is only resolved and checked when the plan is compiled (see files/mount-table.ts).
 */
import picomatch from "picomatch";
import { hidesGuestSystem } from "../files/guest-path.js";
import type { GlobSpec, MountSpec, PolicyLayer } from "../model/policy.js";
import { FILES_KEYS, LINK_RULES, MOUNT_KEYS, MOUNT_MODES } from "./keys.js";
import type { AnyNode, Walker } from "./walker.js";

const MOUNT_EXAMPLE = "write a mapping like {host: ./data, mode: ro} (it appears at the same path in the guest; add guest: /mnt/data to move it)";

function parseGlobs(w: Walker, node: AnyNode, path: string): GlobSpec[] {
  const out: GlobSpec[] = [];
  const items = w.seq(node, path, 'write a list of globs like ["**/.env", ".git/hooks/**"]');
  items?.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const g = w.string(item, p);
    if (g === null) return;
    if (g.startsWith("/") || g.split("/").includes("..")) {
      w.error("invalid-glob", item, p, `glob "${g}" must be relative to the mount root and stay inside it`, `write it without a leading "/" or "..", e.g. "**/.env"`);
      return;
    }
    try {
      picomatch.makeRe(g);
    } catch (e) {
      w.error("invalid-glob", item, p, `glob "${g}" is invalid: ${(e as Error).message}`, "see picomatch syntax: *, **, {a,b}, [abc]");
      return;
    }
    out.push({ glob: g, origin: w.origin(item), path: p });
  });
  return out;
}

function parseMount(w: Walker, node: AnyNode, path: string): MountSpec | null {
  const m = w.map(node, path, MOUNT_KEYS, MOUNT_EXAMPLE);
  if (!m) return null;
  let ok = m.has("host");
  if (!ok) w.error("missing-key", node, path, `${path} has no "host"`, MOUNT_EXAMPLE);
  const host = m.has("host") ? w.string(m.get("host")!.value, `${path}.host`) : null;
  // Omitted (undefined): the same path as on the host. null: written, but not a string.
  const guestNode = m.get("guest")?.value;
  const guest = m.has("guest") ? w.string(guestNode, `${path}.guest`) : undefined;
  if (typeof guest === "string") {
    const parts = guest.split("/");
    if (!guest.startsWith("/") || parts.includes("..") || parts.includes(".")) {
      w.error("invalid-guest-path", guestNode, `${path}.guest`, `guest path "${guest}" must be absolute and contain no "." or ".."`, "write an absolute path such as /mnt/data, or omit guest to use the host path");
      ok = false;
    } else if (hidesGuestSystem(guest)) {
      w.error("invalid-guest-path", guestNode, `${path}.guest`, `guest path "${guest}" would hide part of the guest system`, "mount it under /mnt (e.g. /mnt/data) instead");
      ok = false;
    }
  }
  const mode = m.has("mode") ? w.oneOf(m.get("mode")!.value, `${path}.mode`, MOUNT_MODES) : "ro";
  const deny = m.has("deny") ? parseGlobs(w, m.get("deny")!.value, `${path}.deny`) : [];
  const readonly = m.has("readonly") ? parseGlobs(w, m.get("readonly")!.value, `${path}.readonly`) : [];
  if (!ok || host === null || guest === null || mode === null) return null;
  const guestPath = guest === undefined ? {} : { guest: guest.length > 1 ? guest.replace(/\/+$/, "") : guest };
  return { host, ...guestPath, mode, deny, readonly, origin: w.origin(node), path };
}

export function parseFilesSection(w: Walker, node: AnyNode, layer: PolicyLayer): void {
  const m = w.map(node, "files", FILES_KEYS);
  if (!m) return;
  const mounts = m.get("mounts");
  if (mounts) {
    w.seq(mounts.value, "files.mounts", MOUNT_EXAMPLE)?.forEach((item, i) => {
      const mount = parseMount(w, item, `files.mounts[${i}]`);
      if (mount) layer.files.mounts.push(mount);
    });
  }
  if (m.has("deny")) layer.files.deny.push(...parseGlobs(w, m.get("deny")!.value, "files.deny"));
  if (m.has("readonly")) layer.files.readonly.push(...parseGlobs(w, m.get("readonly")!.value, "files.readonly"));
  const links = m.get("outsideLinks");
  if (links) {
    const v = w.oneOf(links.value, "files.outsideLinks", LINK_RULES);
    if (v) layer.files.outsideLinks = { value: v, origin: w.origin(links.value), path: "files.outsideLinks" };
  }
  const broad = m.get("allowBroad");
  if (broad) {
    const v = w.boolean(broad.value, "files.allowBroad");
    if (v !== null) layer.files.allowBroad = { value: v, origin: w.origin(broad.value), path: "files.allowBroad" };
  }
}
