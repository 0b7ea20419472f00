/**
 * The file policy as it applies to the workspace copy of `moat run`. The compiled policy
 * (`Plan.mounts`, from @moat/policy) describes mounts by host root, with deny and readonly globs
 * relative to each root; the copy works on paths relative to the workspace directory. This module
 * finds the mount that covers the workspace — the one with the longest host root containing the
 * workspace's real path (symlinks resolved), which may be the workspace itself or a parent of it —
 * and answers, for a path relative to the workspace:
 *
 * - `isHidden(rel)`: denied by the mount (the path or one of its parents matches a deny glob): never
 *   copied into the guest, and never written back to the host.
 * - `isReadonly(rel)`: under a read-only glob, or anything at all when the mount is `ro`: the guest
 *   gets it but its changes are not copied back.
 *
 * Only the covering mount's own globs apply (nested mounts with other rules do not change what the
 * copy does below them). A workspace that no mount covers, or that its mount hides, is refused
 * with POLICY_VIOLATION: copying it would share host files the policy does not allow to share.
 */
import type { MountEntry } from "@moat/policy";
import { realpath } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";

export interface WorkspaceRules {
  /** The workspace's real path. */
  readonly dir: string;
  /** The mount that covers it. */
  readonly mount: MountEntry;
  /** True when `rel` (relative to the workspace, `/`-separated; "" is the workspace) is hidden by the policy. */
  isHidden(rel: string): boolean;
  /** True when changes to `rel` must not reach the host. */
  isReadonly(rel: string): boolean;
}

function contains(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The rules for `workspaceDir` under the compiled mounts; throws POLICY_VIOLATION when none covers it. */
export async function workspaceRules(mounts: readonly MountEntry[], workspaceDir: string): Promise<WorkspaceRules> {
  const dir = await realpath(workspaceDir).catch(() => resolve(workspaceDir));
  const mount = mounts.filter((m) => contains(m.hostPath, dir)).sort((a, b) => b.hostPath.length - a.hostPath.length)[0];
  if (!mount) {
    throw new SandboxError(SandboxErrorCode.POLICY_VIOLATION, `the workspace ${dir} is not inside any mount of the sandbox policy, so none of it may be copied into the sandbox`, {
      fix: `add a files.mounts entry whose host path contains ${dir} (e.g. in .moat/policy.yaml), or pass --no-workspace`,
    });
  }
  const prefix = relative(mount.hostPath, dir).split(sep).join("/");
  const fromRoot = (rel: string) => (prefix === "" ? rel : rel === "" ? prefix : `${prefix}/${rel}`);
  if (mount.isDenied(prefix)) {
    throw new SandboxError(SandboxErrorCode.POLICY_VIOLATION, `the workspace ${dir} is hidden by the sandbox policy (a deny glob of the mount at ${mount.guestPath} covers it)`, {
      fix: "remove the deny glob that covers it from files.deny or files.mounts[].deny, or pass --no-workspace",
    });
  }
  return {
    dir,
    mount,
    isHidden: (rel) => mount.isDenied(fromRoot(rel)),
    isReadonly: (rel) => mount.mode === "ro" || mount.isReadonly(fromRoot(rel)),
  };
}
