#!/usr/bin/env node
/**
 * Generates the static protobufjs code for proto/moat/rpc/v1/*.proto into generated/:
 * moat.js (pbjs -t static-module, ES module) and moat.d.ts (pbts). Skips the work when the output
 * is newer than every .proto file. Writes into a temp dir and renames each file into place, so a
 * failed run leaves the previous output (or none) and never a half-written file.
 *
 * Usage: node scripts/generate.mjs [--force]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(pkg, "proto", "moat", "rpc", "v1");
const outDir = join(pkg, "generated");
const protos = readdirSync(protoDir).filter((f) => f.endsWith(".proto")).sort().map((f) => join(protoDir, f));

export function isFresh() {
  const js = join(outDir, "moat.js");
  const dts = join(outDir, "moat.d.ts");
  if (!existsSync(js) || !existsSync(dts)) return false;
  const built = Math.min(statSync(js).mtimeMs, statSync(dts).mtimeMs);
  return protos.every((p) => statSync(p).mtimeMs <= built) && statSync(fileURLToPath(import.meta.url)).mtimeMs <= built;
}

export function generate({ force = false } = {}) {
  if (!force && isFresh()) return;
  const require = createRequire(join(pkg, "package.json"));
  const cliDir = dirname(require.resolve("protobufjs-cli/package.json"));
  const pbjs = join(cliDir, "bin", "pbjs");
  const pbts = join(cliDir, "bin", "pbts");
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const js = join(tmp, "moat.js");
    execFileSync(process.execPath, [pbjs, "-t", "static-module", "-w", "es6", "--force-number", "--no-beautify",
      "-p", join(pkg, "proto"), "-o", js, ...protos], { stdio: ["ignore", "inherit", "inherit"] });
    // Node ESM needs the file extension and a default import of the CommonJS runtime.
    const src = readFileSync(js, "utf8").replace(
      /import \* as \$protobuf from "protobufjs\/minimal";/,
      'import $protobuf from "protobufjs/minimal.js";',
    );
    if (!src.includes('from "protobufjs/minimal.js"')) throw new Error("generate: pbjs output changed shape (no protobufjs/minimal import)");
    writeFileSync(js, src);
    execFileSync(process.execPath, [pbts, "-o", join(tmp, "moat.d.ts"), js], { stdio: ["ignore", "inherit", "inherit"] });
    // Per-file renames are atomic and overwrite: concurrent runs (turbo runs build, typecheck and
    // lint side by side) and readers never see a missing or half-written file.
    mkdirSync(outDir, { recursive: true });
    renameSync(join(tmp, "moat.js"), join(outDir, "moat.js"));
    renameSync(join(tmp, "moat.d.ts"), join(outDir, "moat.d.ts"));
    rmSync(tmp, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`generating protobuf code from ${protoDir} failed: ${err.message}`, { cause: err });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  generate({ force: process.argv.includes("--force") });
}
