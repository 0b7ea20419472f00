#!/usr/bin/env node
/**
 * Builds one workspace package's TypeScript entry points into `dist/` with esbuild.
 *
 * Usage (from a package folder): node ../../tools/build/build-package.mjs src/index.ts [more entries]
 * Each entry becomes dist/<name>.js, an ES module for Node >= 20.19. Dependencies stay external
 * (they are resolved at run time to their own dist/), so every package is built exactly once.
 * Pass --bundle-all to inline workspace and npm dependencies too (the CLI and VMM-host entries).
 */
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { basename, extname, resolve } from "node:path";

const args = process.argv.slice(2);
const bundleAll = args.includes("--bundle-all");
const entries = args.filter((a) => !a.startsWith("--"));
if (entries.length === 0) {
  console.error("build-package: name at least one entry point, e.g. src/index.ts");
  process.exit(2);
}

const missing = entries.filter((e) => !existsSync(e));
if (missing.length > 0) {
  console.error(`build-package: entry point ${missing.join(", ")} does not exist in ${process.cwd()} (fix the package's "build" script)`);
  process.exit(2);
}

await build({
  // Absolute paths: with packages: "external", esbuild would take a bare "src/x.ts" for a package name.
  entryPoints: Object.fromEntries(entries.map((e) => [basename(e, extname(e)), resolve(e)])),
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  conditions: ["moat-source"],
  packages: bundleAll ? undefined : "external",
  // Native addons and optional backends are always loaded at run time, never inlined.
  external: bundleAll ? ["*.node", "@moat/backend-*", "moat-backend-*"] : undefined,
  banner: bundleAll
    ? { js: "import { createRequire as __moatCreateRequire } from 'node:module'; const require = __moatCreateRequire(import.meta.url);" }
    : undefined,
  logLevel: "warning",
});
