/** hostTscKhz: the L1 kernel's tsc_early_khz comes from the host's "cpu MHz"; absent → undefined. */
import { describe, expect, it } from "vitest";
import { hostTscKhz } from "../src/tsc.js";

describe("hostTscKhz", () => {
  it("reads the first cpu MHz line", () => {
    expect(hostTscKhz("processor\t: 0\ncpu MHz\t\t: 2445.428\nprocessor\t: 1\ncpu MHz\t\t: 1000.000\n")).toBe(2445428);
  });
  it("is undefined when the line is missing or not a number", () => {
    expect(hostTscKhz("processor\t: 0\n")).toBeUndefined();
    expect(hostTscKhz("cpu MHz\t\t: unknown\n")).toBeUndefined();
  });
  it("reads this machine's /proc/cpuinfo (x86 Linux lists cpu MHz)", () => {
    if (process.arch === "x64") expect(hostTscKhz()).toBeGreaterThan(100_000);
  });
});
