#!/usr/bin/env node
/**
 * Builds the addon with node-gyp against the headers of the Node that runs this script (no
 * download: `--nodedir` points at the local install when it ships include/node, as Debian's and
 * the official tarballs do). Output: build/Release/moat_kvm.node, and build/boot_test (T0 unit
 * tests of the boot code). Two parallel jobs at most;
 * incremental (`node-gyp build`) once configured.
 *
 * `--if-missing` (the package's `install` script): build only when the addon does not exist yet.
 * Declaring an install script also stops package managers from running their implicit
 * `node-gyp rebuild` (a full rebuild) on every install of the workspace.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, renameSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = resolve(dirname(fileURLToPath(import.meta.url)), "..");
if (process.platform !== "linux" || process.arch !== "x64") {
  console.log(`backend-kvm: skipping the native build on ${process.platform}/${process.arch} (linux/x64 only)`);
  process.exit(0);
}
if (process.argv.includes("--if-missing") && existsSync(join(here, "build", "Release", "moat_kvm.node"))) process.exit(0);
const require = createRequire(import.meta.url);
const gyp = join(dirname(require.resolve("node-gyp/package.json")), "bin", "node-gyp.js");
const configured = existsSync(join(here, "build", "Makefile"));
const args = [gyp, configured ? "build" : "rebuild", "-j", "2"];
const localPrefix = resolve(dirname(process.execPath), "..");
if (!process.env.npm_config_nodedir && existsSync(join(localPrefix, "include", "node", "node.h"))) {
  args.push(`--nodedir=${localPrefix}`);
}
const r = spawnSync(process.execPath, args, { cwd: here, stdio: "inherit" });
if (r.status !== 0) {
  console.error("backend-kvm: node-gyp failed; it needs python3, make and g++ (Debian: build-essential python3)");
  process.exit(r.status ?? 1);
}
buildBootTest();

/**
 * The T0 unit tests of the x86_64 boot code (test/native/boot_test.cc, doctest) → build/boot_test,
 * rebuilt when a source is newer. Without doctest the test file skips with the reason.
 */
function buildBootTest() {
  const doctest = "/usr/include/doctest/doctest.h";
  if (!existsSync(doctest)) {
    console.log(`backend-kvm: ${doctest} missing (apt-get install doctest-dev): boot unit tests not built`);
    return;
  }
  const vmm = join(here, "..", "vmm", "src");
  const sources = [
    join(here, "test", "native", "boot_test.cc"),
    ...["kernel_loader", "mptable", "cpuid", "cpu_state", "test_payload"].map((f) => join(vmm, "arch", "x86_64", `${f}.cc`)),
    join(vmm, "memory", "guest_memory.cc"),
  ];
  const out = join(here, "build", "boot_test");
  const inputs = [...sources, ...readdirSync(join(vmm, "arch", "x86_64")).map((f) => join(vmm, "arch", "x86_64", f))];
  if (existsSync(out) && inputs.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs)) return;
  const cc = spawnSync("g++", ["-std=c++20", "-Wall", "-Wextra", "-O1", "-I", vmm, ...sources, "-o", `${out}.tmp`], { stdio: "inherit" });
  if (cc.status !== 0) process.exit(cc.status ?? 1);
  renameSync(`${out}.tmp`, out);
}
