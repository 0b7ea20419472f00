/** The boot benchmark's accounting: smaps split, ready-line parsing, summaries and the report's ratio. */
import { describe, expect, it } from "vitest";
import { buildReport, formatReport, parseReadyLine, rssBreakdown, summarize } from "@moat/bench-boot";

const SMAPS = `55d0c0000000-55d0c0100000 r-xp 00000000 08:01 123 /usr/bin/qemu-system-x86_64
Size:               1024 kB
Rss:                 800 kB
7f0000000000-7f0010001000 rw-p 00000000 00:00 0
Size:             262148 kB
Rss:               20480 kB
7f0020000000-7f0020400000 rw-p 00000000 00:00 0
Size:               4096 kB
Rss:                3000 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
Rss:                  20 kB
`;

describe("boot benchmark accounting", () => {
  it("splits RSS into the guest RAM mapping and the VMM's own memory", () => {
    const split = rssBreakdown(SMAPS, 256 << 20);
    expect(split.guestRssBytes).toBe(20480 * 1024);
    expect(split.totalRssBytes).toBe((800 + 20480 + 3000 + 20) * 1024);
    expect(split.overheadBytes).toBe((800 + 3000 + 20) * 1024);
  });

  it("refuses to guess when no mapping has the guest's size", () => {
    expect(() => rssBreakdown(SMAPS, 1024 << 20)).toThrow(/no anonymous mapping of 1048576 KiB/);
  });

  it("reads the ready marker only once its line is complete", () => {
    expect(parseReadyLine("boot\nMOAT-BENCH-READY 1.2", "MOAT-BENCH-READY")).toBeUndefined();
    expect(parseReadyLine("boot\nMOAT-BENCH-READY 1.25\n", "MOAT-BENCH-READY")).toBe(1.25);
  });

  it("summarizes with the median of even and odd counts", () => {
    expect(summarize([3, 1, 2])).toEqual({ runs: 3, median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 2, 3])?.median).toBe(2.5);
    expect(summarize([])).toBeUndefined();
  });

  it("computes the moat/QEMU ratio and says why it is missing", () => {
    const sample = (readyMs: number) => ({ readyMs, guestUptimeS: 0.5, rss: { totalRssBytes: 100 << 20, guestRssBytes: 20 << 20, overheadBytes: 80 << 20 } });
    const both = buildReport([{ name: "moat-kvm", samples: [sample(100), sample(300)] }, { name: "qemu-microvm", samples: [sample(400)] }], 2, 256, "vmlinux");
    expect(both.ratioMoatToQemu).toBe(0.5);
    expect(formatReport(both)).toMatch(/ratio of median ready times: 0\.50x/);
    expect(both.overheadRatioMoatToQemu).toBe(1);
    expect(formatReport(both)).toMatch(/ratio of median VMM RSS overheads: 1\.00x/);
    const peerOnly = buildReport([{ name: "moat-kvm", unavailable: "not installed", samples: [] }, { name: "qemu-microvm", samples: [sample(400)] }], 1, 256, "vmlinux");
    expect(peerOnly.ratioMoatToQemu).toBeUndefined();
    expect(formatReport(peerOnly)).toMatch(/moat-kvm\s+0\s+not run: not installed/);
    expect(formatReport(peerOnly)).toMatch(/ratio of median VMM RSS overheads: n\/a/);
  });

  it("names the JS runtime's share of the VMM process's overhead", () => {
    const rss = { totalRssBytes: 90 << 20, guestRssBytes: 30 << 20, overheadBytes: 60 << 20, runtimeBaselineBytes: 40 << 20 };
    const report = buildReport([{ name: "moat-kvm", samples: [{ readyMs: 10, guestUptimeS: 0.1, rss }] }], 1, 256, "vmlinux");
    expect(report.contenders[0]?.vmmOverheadMiB?.median).toBe(60);
    expect(formatReport(report)).toMatch(/moat-kvm: 40\.0 MiB of its overhead is its process before the VMM loaded/);
  });
});
