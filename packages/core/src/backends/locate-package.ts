/**
 * Finds a backend package on disk the way Node does (node_modules folders from a base directory up
 * to the root), without importing it: so "not installed" is decided by absence alone, and anything
 * that goes wrong after the package was found is a load error, never "not installed".
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { exports as resolveExports, legacy as resolveLegacy } from "resolve.exports";

export interface PackageManifest {
  name?: string;
  version?: string;
  os?: string[];
  cpu?: string[];
  peerDependencies?: Record<string, string>;
  exports?: unknown;
  main?: string;
  module?: string;
}

export interface FoundPackage {
  packageName: string;
  /** Real path of the package folder. */
  dir: string;
  manifest: PackageManifest;
}

/** Default bases: where @moat/core itself lives (or the bundle that inlined it), then the working directory. */
export function defaultSearchBases(): string[] {
  return [dirname(fileURLToPath(import.meta.url)), process.cwd()];
}

/** node_modules folders a lookup from `bases` visits, nearest first, without duplicates. */
export function nodeModulesDirs(bases: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const base of bases) {
    for (let dir = base; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules");
      if (existsSync(candidate)) seen.add(candidate);
      if (dirname(dir) === dir) break;
    }
  }
  return [...seen];
}

export function findPackage(packageName: string, bases: readonly string[]): FoundPackage | undefined {
  for (const modules of nodeModulesDirs(bases)) {
    const manifestPath = join(modules, packageName, "package.json");
    if (!existsSync(manifestPath)) continue;
    const dir = realpathSync(dirname(manifestPath));
    return { packageName, dir, manifest: JSON.parse(readFileSync(manifestPath, "utf8")) as PackageManifest };
  }
  return undefined;
}

/** Package names matching @moat/backend-* or moat-backend-* found under `bases`. */
export function discoverBackendPackages(bases: readonly string[]): string[] {
  const names = new Set<string>();
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const modules of nodeModulesDirs(bases)) {
    for (const entry of list(modules)) if (entry.startsWith("moat-backend-")) names.add(entry);
    for (const entry of list(join(modules, "@moat"))) if (entry.startsWith("backend-") && entry !== "backend-api") names.add(`@moat/${entry}`);
  }
  return [...names].sort();
}

/**
 * The file `import(packageName)` would load, by the package's `exports` (conditions: node, import,
 * default, plus `conditions`) or else `module`/`main`/index.js. Throws when `exports` hides ".".
 */
export function packageEntry(found: FoundPackage, conditions: readonly string[] = []): string {
  const manifest = { name: found.packageName, ...found.manifest };
  if (manifest.exports !== undefined) {
    const targets = resolveExports(manifest, ".", { conditions });
    if (targets?.[0]) return join(found.dir, targets[0]);
  }
  const legacyEntry = resolveLegacy(manifest, { browser: false, fields: ["module", "main"] });
  return join(found.dir, legacyEntry || "index.js");
}

/** Whether the package's os/cpu fields admit this platform (absent fields admit everything). */
export function supportsPlatform(manifest: PackageManifest, platform: string, arch: string): boolean {
  const admits = (list: string[] | undefined, value: string) =>
    !list || list.length === 0 || (list.includes(value) && !list.includes(`!${value}`)) || (list.every((item) => item.startsWith("!")) && !list.includes(`!${value}`));
  return admits(manifest.os, platform) && admits(manifest.cpu, arch);
}
