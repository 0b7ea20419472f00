/**
 * A disk cache for the CPL0 probe's verdict, so that only the first `moat run` after a host boot
 * pays for it (1 s on nested hosts where the probe has to time out). The verdict is a fact about
 * this host as it booted: the key is the kernel's boot id, /dev/kvm's identity and permissions, who
 * asks (uid, groups) and the addon build that ran the probe. Only the two outcomes of actually
 * running the probe (OK, NO_GUEST_KERNEL) are kept; a missing device or permission is cheap to find
 * again and may be fixed any minute. `$MOAT_CACHE_DIR` or `$XDG_CACHE_HOME/moat` (~/.cache/moat),
 * file `probe/kvm-<key>.json`, written atomically; anything unreadable is ignored and replaced.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { NativeProbe } from "./native.js";

const CACHED_CODES: ReadonlySet<NativeProbe["code"]> = new Set(["OK", "NO_GUEST_KERNEL"]);

function cacheRoot(env: NodeJS.ProcessEnv): string {
  return env.MOAT_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "moat");
}

/** The cache file for this host state, or undefined when the state cannot be read (no caching). */
export function probeCachePath(addonPath: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const kvm = statSync("/dev/kvm");
    const addon = statSync(addonPath);
    const key = JSON.stringify({
      bootId,
      kvm: [kvm.rdev, kvm.ino, kvm.mode, kvm.uid, kvm.gid],
      who: [process.getuid?.(), process.getgroups?.()],
      addon: [addonPath, addon.size, addon.mtimeMs],
    });
    return join(cacheRoot(env), "probe", `kvm-${createHash("sha256").update(key).digest("hex").slice(0, 16)}.json`);
  } catch {
    return undefined;
  }
}

export function readCachedProbe(path: string | undefined): NativeProbe | undefined {
  if (!path) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<NativeProbe>;
    if (typeof value.code === "string" && CACHED_CODES.has(value.code) && typeof value.message === "string" && typeof value.elapsedMs === "number") {
      return value as NativeProbe;
    }
  } catch {
    // absent or unreadable: probe again
  }
  return undefined;
}

export function writeCachedProbe(path: string | undefined, probe: NativeProbe): void {
  if (!path || !CACHED_CODES.has(probe.code)) return;
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(probe));
    renameSync(temp, path);
  } catch {
    // a read-only or full cache only costs the next run a probe
  }
}
