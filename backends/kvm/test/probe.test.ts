/**
 * probe() on this host, checked against what the host really is: without /dev/kvm or without
 * permission it says so with the fix; with KVM it either runs the CPL0 probe (available) or reports
 * the nested-PVM reason. The result is cached per process.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createBackend, nativeProbe } from "../src/index.js";
import { skipReason } from "./helpers/kvm.js";

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

  test.skipIf(skipReason)("T1 mode reports available wherever CPL3 code runs", async () => {
    const result = await createBackend({ testPayload: { path: "/unused" } }).probe();
    expect(result.available).toBe(result.details?.cpl3 === "yes");
  });
});
