/**
 * Compiles the effective mounts into the mount table, checking each host path **before boot**:
 * missing, not a directory, inside a sensitive host area or inside another mount's denied area,
 * a broad mount (`/`, the home directory or one of its ancestors; read-write needs `allowBroad`),
 * and a bounded scan of the tree for symlinks leaving the mount root (refused by default) and, in a
 * rw mount, files with more than one hard link (a note; see below).
 *
 * Guest paths: a mount without `guest` appears at the same path as on the host — its host path made
 * absolute (`~` expanded, relative to the project root), symlinks not resolved, as `moat run` places
 * the workspace at the path it was given. That path may not hide the guest's `/`, /proc, /sys, /dev
 * or /run. Two mounts at the same guest path or of the same real host directory: the later one
 * replaces the earlier one (as layering does for paths written the same way).
 *
 * Boundary: these checks see the tree as it is at plan time. Links created later, and every access
 * at run time, are to be enforced by the VMM's virtio-fs server, not built yet (lookups confined
 * beneath the root with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`, deny/readonly globs
 * applied per lookup, and no write-open of a file with st_nlink > 1 under a rw mount — hence the
 * hard-link scan). Until then `moat run` copies the workspace: @moat/core applies
 * `isDenied`/`isReadonly` at copy time, sends symlinks as links (never what they point to), and
 * its copy back replaces a changed file (unlink, create) instead of writing through it, so a hard
 * link cannot carry a guest write to a file outside the mount.
 */
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import picomatch from "picomatch";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { EffectivePolicy, LinkRule, MountMode, MountSpec } from "../model/policy.js";
import type { Origin } from "../model/origin.js";
import { hidesGuestSystem } from "./guest-path.js";
import type { PolicyFs } from "./policy-fs.js";

export interface MountEntry {
  /** Real host path of the mount root (symlinks resolved). */
  hostPath: string;
  /** Where the guest sees it: `guest` as written, else the host path made absolute (the same path). */
  guestPath: string;
  mode: MountMode;
  /** Globs relative to the root: hidden from the guest. */
  deny: string[];
  /** Globs relative to the root: read-only even in a rw mount. */
  readonly: string[];
  /** True when `relPath` (relative to the root, `/`-separated) or one of its parents is denied. */
  isDenied(relPath: string): boolean;
  isReadonly(relPath: string): boolean;
  origin: Origin;
  /** The policy entry it was compiled from. */
  spec: MountSpec;
}

export interface MountContext {
  fs: PolicyFs;
  homeDir: string;
  /** Relative host paths resolve against this (the project root). */
  baseDir: string;
  /** Stop the link scan of one mount after this many entries (default 20,000). */
  scanLimit?: number;
}

/** Host areas no mount may be inside, and that are hidden when a mount contains them. */
export function sensitiveAreas(homeDir: string): string[] {
  const home = [".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config/gcloud", ".config/moat", ".netrc", ".npmrc", ".pypirc"].map((p) => join(homeDir, p));
  return [...home, "/etc", "/proc", "/sys", "/dev", "/boot", "/run", "/var/run", "/root/.ssh"];
}

function inside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

function ancestorsAndSelf(rel: string): string[] {
  const parts = rel.split("/");
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

function makeEntry(hostPath: string, guestPath: string, spec: MountSpec, deny: string[], readonly: string[]): MountEntry {
  const denyTest = deny.length ? picomatch(deny, { dot: true }) : () => false;
  const roTest = readonly.length ? picomatch(readonly, { dot: true }) : () => false;
  const mode = spec.mode;
  return {
    hostPath,
    guestPath,
    mode,
    deny,
    readonly,
    origin: spec.origin,
    spec,
    isDenied: (rel) => rel !== "" && ancestorsAndSelf(rel).some((p) => denyTest(p)),
    isReadonly: (rel) => mode === "ro" || (rel !== "" && ancestorsAndSelf(rel).some((p) => roTest(p))),
  };
}

function where(o: Origin, path: string) {
  return { file: o.file, ...(o.line !== undefined ? { line: o.line, column: o.column } : {}), path };
}

/** Each mount's absolute host path, real root and guest path; a mount a later one replaces is left out. */
function resolveMounts(policy: EffectivePolicy, ctx: MountContext): { spec: MountSpec; abs: string; root: string; guestPath: string }[] {
  const resolved = policy.files.mounts.map((spec) => {
    const expanded = spec.host === "~" ? ctx.homeDir : spec.host.startsWith("~/") ? join(ctx.homeDir, spec.host.slice(2)) : spec.host;
    const abs = resolve(ctx.baseDir, expanded);
    return { spec, abs, root: ctx.fs.realpath(abs) ?? abs, guestPath: spec.guest ?? abs };
  });
  return resolved.filter((r, i) => !resolved.slice(i + 1).some((later) => later.guestPath === r.guestPath || later.root === r.root));
}

export function compileMounts(policy: EffectivePolicy, ctx: MountContext, bag: DiagnosticBag): MountEntry[] {
  const { fs } = ctx;
  const home = fs.realpath(ctx.homeDir) ?? ctx.homeDir;
  const areas = sensitiveAreas(ctx.homeDir).map((a) => fs.realpath(a) ?? a);
  const globalDeny = policy.files.deny.map((g) => g.glob);
  const globalRo = policy.files.readonly.map((g) => g.glob);
  const entries: MountEntry[] = [];
  for (const { spec: m, abs, root, guestPath } of resolveMounts(policy, ctx)) {
    const at = where(m.origin, m.path);
    if (hidesGuestSystem(guestPath)) {
      const msg = m.guest === undefined
        ? `mount host path ${abs} has no guest path, so it would appear at the same path in the guest and hide part of the guest system`
        : `guest path ${guestPath} of the mount of "${m.host}" would hide part of the guest system`;
      bag.error("invalid-guest-path", msg, at, `give it a guest path outside /proc, /sys, /dev and /run, e.g. {host: "${m.host}", guest: /mnt/${basename(abs) || "host"}, mode: ${m.mode}}`);
      continue;
    }
    const l = fs.lstat(abs);
    if (!l) {
      bag.error("mount-missing", `mount host path ${abs} (from "${m.host}") does not exist`, at, "create the directory or fix files.mounts[].host");
      continue;
    }
    const s = fs.stat(abs);
    if (!s || s.type !== "directory") {
      bag.error("mount-not-directory", `mount host path ${abs} is ${s ? `a ${s.type}` : "a dangling symlink"}, not a directory`, at, "mount the directory that contains it, and deny what the agent must not see");
      continue;
    }
    const area = areas.find((a) => inside(root, a));
    if (area) {
      bag.error("mount-denied-area", `mount host path ${root} lies inside the protected host area ${area}`, at, "credentials and system directories are never mounted; copy what the agent needs into the project");
      continue;
    }
    const broad = root === "/" || inside(home, root);
    const extraDeny: string[] = [];
    if (broad) {
      const allow = policy.files.allowBroad.value;
      const msg = `mount of ${root} ${m.mode === "rw" ? "read-write " : ""}exposes ${root === "/" ? "the whole host" : "the home directory"}`;
      if (m.mode === "rw" && !allow) {
        bag.error("broad-mount", msg, at, "mount the project folder instead (moat run: run it there, or pass -w DIR or --no-workspace), or pass --allow-broad (files.allowBroad: true) if you really mean it");
        continue;
      }
      bag.warning("broad-mount", msg, at, "prefer mounting just the project folder");
      for (const a of areas) if (inside(a, root) && a !== root) extraDeny.push(relative(root, a).split(sep).join("/"));
    }
    const deny = [...globalDeny, ...m.deny.map((g) => g.glob), ...extraDeny.flatMap((r) => [r, `${r}/**`])];
    const ro = [...globalRo, ...m.readonly.map((g) => g.glob)];
    entries.push(makeEntry(root, guestPath, m, deny, ro));
  }
  // A mount may not reveal what an enclosing mount denies.
  for (const e of entries) {
    for (const outer of entries) {
      if (outer === e || e.hostPath === outer.hostPath || !inside(e.hostPath, outer.hostPath)) continue;
      const rel = relative(outer.hostPath, e.hostPath).split(sep).join("/");
      if (outer.isDenied(rel))
        bag.error("mount-denied-area", `mount host path ${e.hostPath} lies inside a denied area of the mount at ${outer.guestPath} (${outer.hostPath})`, where(e.spec.origin, e.spec.path), "remove this mount or the deny glob that covers it");
    }
  }
  for (const e of entries) scanLinks(e, policy.files.outsideLinks.value, ctx, bag);
  return entries;
}

/** Scans one mount tree (bounded) for symlinks leaving the root and, in a rw mount, multiply-linked files. */
function scanLinks(entry: MountEntry, rule: LinkRule, ctx: MountContext, bag: DiagnosticBag): void {
  const { fs } = ctx;
  const limit = ctx.scanLimit ?? 20_000;
  const at = where(entry.spec.origin, entry.spec.path);
  const queue: string[] = [""];
  const hardlinked: string[] = [];
  let escapes = 0;
  let seen = 0;
  while (queue.length > 0) {
    const rel = queue.shift()!;
    for (const name of fs.readdir(join(entry.hostPath, rel))) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (entry.isDenied(childRel)) continue;
      if (++seen > limit) {
        bag.warning("scan-limit", `stopped scanning ${entry.hostPath} for outside links after ${limit} entries`, at, "the rest is not checked before boot (the workspace copy still applies the deny and readonly globs, and sends links as links); mount a smaller tree, or deny big generated directories, to have it all checked");
        return reportHardlinks(entry, hardlinked, at, bag);
      }
      const abs = join(entry.hostPath, childRel);
      const info = fs.lstat(abs);
      if (!info) continue;
      if (info.type === "directory") queue.push(childRel);
      // git's object files are immutable (0444) and routinely hard-linked by `git clone --local`.
      else if (info.type === "file" && entry.mode === "rw" && info.nlink > 1 && !/(^|\/)\.git\/objects\//.test(childRel)) hardlinked.push(childRel);
      else if (info.type === "symlink") {
        const target = fs.readlink(abs) ?? "";
        const resolved = fs.realpath(abs) ?? resolve(dirname(abs), target);
        if (!inside(resolved, entry.hostPath)) {
          escapes++;
          if (escapes <= 20) {
            const msg = `symlink ${childRel} in the mount at ${entry.guestPath} points outside it (→ ${target})`;
            const hint = "remove or replace the link, deny it with files.deny, or set files.outsideLinks: warn (the workspace copy sends the link itself, never the file it points to)";
            if (rule === "refuse") bag.error("symlink-escape", msg, at, hint);
            else bag.warning("symlink-escape", msg, at, hint);
          }
        }
      }
    }
  }
  if (escapes > 20) bag.add({ severity: rule === "refuse" ? "error" : "warning", code: "symlink-escape", message: `${escapes - 20} more symlinks in ${entry.hostPath} point outside it`, ...at });
  reportHardlinks(entry, hardlinked, at, bag);
}

/**
 * One note for the rw mount's files that have other hard links (pnpm's store makes thousands): no
 * risk today, since the copy back replaces a file rather than writing through it; a live share
 * (virtio-fs) will have to refuse write-opens of them.
 */
function reportHardlinks(entry: MountEntry, files: string[], at: ReturnType<typeof where>, bag: DiagnosticBag): void {
  if (files.length === 0) return;
  const sample = `${files.slice(0, 3).join(", ")}${files.length > 3 ? ", …" : ""}`;
  const count = files.length === 1 ? "1 file" : `${files.length} files`;
  bag.note(
    "hardlink",
    `${count} in the rw mount at ${entry.guestPath} ha${files.length === 1 ? "s" : "ve"} other hard links (${sample})`,
    at,
    "nothing to do today: the copy back replaces a changed file instead of writing through it, so its other links keep their content; to silence this, break the links (cp --no-preserve=links; pnpm: package-import-method=copy) or deny the files",
  );
}
