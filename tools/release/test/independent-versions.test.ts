/**
 * Changesets versions every package independently: a changeset for one package bumps that package
 * and, by a patch, only the packages that depend on it (they pin its exact version when published;
 * updateInternalDependencies = patch). Nothing else moves. Runs `changeset status` on a fresh clone
 * of the committed repository, so the shared working tree is never touched. A peer dependent moves
 * only when the new version leaves its peer range (a contract minor keeps every backend as it is).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";

const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: import.meta.dirname, encoding: "utf8" }).trim();
const changesetBin = join(dirname(createRequire(join(root, "package.json")).resolve("@changesets/cli/package.json")), "bin.js");

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
interface Plan {
  releases: Array<{ name: string; type: string; oldVersion: string; newVersion: string }>;
}

let clone: string;
let manifests: Manifest[];

beforeAll(() => {
  clone = mkdtempSync(join(tmpdir(), "moat-changesets-"));
  execFileSync("git", ["clone", "--quiet", "--branch", "main", root, clone]);
  // Pending changesets of real work would join every plan: each check starts from none.
  for (const file of readdirSync(join(clone, ".changeset"))) {
    if (file.endsWith(".md") && file !== "README.md") rmSync(join(clone, ".changeset", file));
  }
  const listing = execFileSync("pnpm", ["ls", "-r", "--depth", "-1", "--json"], { cwd: root, encoding: "utf8" });
  manifests = (JSON.parse(listing) as Array<{ path: string }>)
    .filter((p) => p.path !== root)
    .map((p) => JSON.parse(readFileSync(join(p.path, "package.json"), "utf8")) as Manifest);
}, 60_000);
afterAll(() => rmSync(clone, { recursive: true, force: true }));

/** Packages that depend on `name` (dependencies, optional, peer), transitively, as changesets bumps them. */
function dependentsOf(name: string): Set<string> {
  const found = new Set<string>();
  const visit = (target: string) => {
    for (const m of manifests) {
      const deps = { ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies };
      if (target in deps && !found.has(m.name)) {
        found.add(m.name);
        visit(m.name);
      }
    }
  };
  visit(name);
  return found;
}

function planFor(pkg: string, bump: "patch" | "minor" | "major"): Plan {
  const changeset = join(clone, ".changeset", "independence-check.md");
  writeFileSync(changeset, `---\n"${pkg}": ${bump}\n---\n\nindependence check\n`);
  const out = join(clone, "plan.json");
  try {
    execFileSync(process.execPath, [changesetBin, "status", `--output=${out}`], { cwd: clone, stdio: "pipe" });
    return JSON.parse(readFileSync(out, "utf8")) as Plan;
  } finally {
    rmSync(changeset, { force: true });
    rmSync(out, { force: true });
  }
}

test("the config has no fixed or linked groups", () => {
  const config = JSON.parse(readFileSync(join(root, ".changeset", "config.json"), "utf8")) as { fixed: unknown[]; linked: unknown[] };
  expect(config.fixed).toEqual([]);
  expect(config.linked).toEqual([]);
});

test.each(["@moat/policy", "@moat/backend-hvf"])("a minor bump of %s moves it and only its dependents (by a patch)", (pkg) => {
  const plan = planFor(pkg, "minor");
  const bumped = new Map(plan.releases.map((r) => [r.name, r]));
  expect(bumped.get(pkg)).toMatchObject({ type: "minor" });
  const dependents = dependentsOf(pkg);
  expect(new Set(bumped.keys())).toEqual(new Set([pkg, ...dependents]));
  for (const name of dependents) expect(bumped.get(name)?.type).toBe("patch");
  const untouched = manifests.filter((m) => !bumped.has(m.name)).map((m) => m.name);
  expect(untouched.length).toBeGreaterThan(manifests.length / 2);
}, 60_000);

test("a minor bump of the contract package bumps no backend to a major (peer ranges still hold)", () => {
  const plan = planFor("@moat/backend-api", "minor");
  expect(plan.releases.find((r) => r.name === "@moat/backend-api")).toMatchObject({ type: "minor" });
  expect(plan.releases.filter((r) => r.type === "major").map((r) => r.name)).toEqual([]);
}, 60_000);
