/**
 * probe() on this host, checked against what the host really is: without /dev/kvm or without
 * permission it says so with the fix; with KVM it either runs the CPL0 probe (available) or reports
 * the nested-PVM reason. The result is cached per process.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import { createBackend, nativeProbe } from "../src/index.js";
import { addonPath } from "../src/native.js";
import { probeCachePath, readCachedProbe, writeCachedProbe } from "../src/probe-cache.js";
import { skipReason, tempDir } from "./helpers/kvm.js";

const cacheDir = tempDir("moat-probe-cache-");
afterAll(() => cacheDir.cleanup());

describe("probe", () => {
  test("classifies this host and names the fix", async () => {
    const result = await createBackend().probe();
    expect(result.hostArch).toBe("x64");
    expect(result.guestArchs).toEqual(["x86_64"]);
    expect(result.features.snapshot).toBe(false);
    if (!existsSync("/dev/kvm")) {
      expect(result.available).toBe(false);
      expect(result.details?.probe).toBe("NO_DEVICE");
      return;
    }
    let accessible = true;
    try {
      accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    } catch {
      accessible = false;
    }
    if (!accessible) {
      expect(result.details?.probe).toBe("PERMISSION");
      expect(result.fix).toMatch(/kvm group/);
      return;
    }
    if (skipReason) return; // addon not built: probe reports HV_ERROR, nothing more to check
    expect(["OK", "NO_GUEST_KERNEL"]).toContain(result.details?.probe);
    if (result.available) {
      expect(result.features.hardwareAccelerated).toBe(true);
    } else {
      expect(result.reason).toMatch(/^nested KVM without hardware virtualization: guest kernels cannot boot here/);
      expect(result.fix).toBeDefined();
    }
    console.log(`[backend-kvm probe] ${result.available ? "available" : `unavailable: ${result.reason}`}`);
  });

  test("is cached per process", async () => {
    expect(nativeProbe()).toBe(nativeProbe());
  });

  test.skipIf(skipReason)("the CPL0 verdict is kept on disk for this host boot and reused by the next process", async () => {
    const env = { MOAT_CACHE_DIR: cacheDir.path };
    vi.stubEnv("MOAT_CACHE_DIR", cacheDir.path);
    try {
      vi.resetModules();
      const first = await (await import("../src/probe.js")).nativeProbe();
      vi.resetModules();
      const second = await (await import("../src/probe.js")).nativeProbe();
      expect(first.fromCache).toBe(false);
      expect(second).toEqual({ ...first, fromCache: true });
      expect(readdirSync(join(cacheDir.path, "probe"))).toHaveLength(1);
      // A cache file that is not a verdict is ignored (and the probe runs again).
      const path = probeCachePath(addonPath, env)!;
      writeFileSync(path, "{ not json");
      expect(readCachedProbe(path)).toBeUndefined();
      vi.resetModules();
      expect((await (await import("../src/probe.js")).nativeProbe()).fromCache).toBe(false);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  test("only the verdicts of a probe that ran are cached, never a missing device or permission", () => {
    const path = join(cacheDir.path, "unit", "kvm-test.json");
    mkdirSync(join(cacheDir.path, "unit"), { recursive: true });
    writeCachedProbe(path, { code: "PERMISSION", message: "no", elapsedMs: 0 });
    expect(readCachedProbe(path)).toBeUndefined();
    writeCachedProbe(path, { code: "NO_GUEST_KERNEL", message: "nested", elapsedMs: 1000 });
    expect(readCachedProbe(path)).toEqual({ code: "NO_GUEST_KERNEL", message: "nested", elapsedMs: 1000 });
    expect(readCachedProbe(undefined)).toBeUndefined();
  });

  test.skipIf(skipReason)("T1 mode reports available wherever CPL3 code runs", async () => {
    const result = await createBackend({ testPayload: { path: "/unused" } }).probe();
    expect(result.available).toBe(result.details?.cpl3 === "yes");
  });
});
