/** Missing prerequisites are reported with the value and the fix; the initramfs is a real cached cpio. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureInitramfs, findL1Kernel, KernelNotFoundError } from "@moat/nested-kvm";

describe("prerequisites", () => {
  it("names MOAT_NESTED_KERNEL's bad value and the fix", () => {
    expect(() => findL1Kernel({ MOAT_NESTED_KERNEL: "/no/such/vmlinux" })).toThrow(KernelNotFoundError);
    expect(() => findL1Kernel({ MOAT_NESTED_KERNEL: "/no/such/vmlinux" })).toThrow(/MOAT_NESTED_KERNEL=\/no\/such\/vmlinux: no such file.*unset it/);
  });

  it("says how to build the kernel when the cache has none", () => {
    const empty = mkdtempSync(join(tmpdir(), "moat-cache-"));
    try {
      expect(() => findL1Kernel({ ...process.env, MOAT_NESTED_KERNEL: "", MOAT_CACHE_DIR: empty })).toThrow(/run guest\/kernel\/build\.sh/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("builds the initramfs once into the cache, with busybox and /init inside", () => {
    const cache = mkdtempSync(join(tmpdir(), "moat-cache-"));
    try {
      const archive = ensureInitramfs({ MOAT_CACHE_DIR: cache });
      expect(archive.startsWith(join(cache, "nested"))).toBe(true);
      const mtime = statSync(archive).mtimeMs;
      expect(ensureInitramfs({ MOAT_CACHE_DIR: cache })).toBe(archive);
      expect(statSync(archive).mtimeMs).toBe(mtime);
      const listing = spawnSync("sh", ["-c", `gzip -dc '${archive}' | cpio -t --quiet`], { encoding: "utf8" });
      expect(listing.stdout.split("\n")).toEqual(expect.arrayContaining(["init", "bin/busybox", "lower", "newroot"]));
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
