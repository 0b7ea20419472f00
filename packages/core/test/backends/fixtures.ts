/**
 * Real backend packages written to a temporary node_modules for selection tests: each is plain
 * JavaScript that Node really imports, covering the good, the incompatible and the broken.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const backendSource = (name: string, opts: { contract?: string; available?: boolean; reason?: string; fix?: string; accelerated?: boolean } = {}) => `
export function createBackend() {
  return {
    name: ${JSON.stringify(name)},
    contractVersion: ${JSON.stringify(opts.contract ?? "1.0.0")},
    async probe() {
      return {
        available: ${opts.available ?? true},
        ${opts.reason ? `reason: ${JSON.stringify(opts.reason)},` : ""}
        ${opts.fix ? `fix: ${JSON.stringify(opts.fix)},` : ""}
        hostArch: "x64",
        guestArchs: ["x86_64"],
        features: { snapshot: false, pause: false, shares: false, hardwareAccelerated: ${opts.accelerated ?? true} },
      };
    },
    async createMachine(spec) {
      if (!(spec && spec.memoryMiB > 0)) {
        const e = new Error("invalid MachineSpec: memoryMiB = " + (spec && spec.memoryMiB) + ": must be between 1 and 1048576 MiB");
        e.name = "BackendError"; e.code = "INVALID_SPEC"; throw e;
      }
      throw new Error("fixture: no machines");
    },
  };
}
`;

interface FixturePackage {
  name: string;
  manifest?: Record<string, unknown>;
  files: Record<string, string>;
}

const PACKAGES: FixturePackage[] = [
  { name: "moat-backend-good", files: { "index.js": backendSource("good") } },
  { name: "moat-backend-v2", manifest: { peerDependencies: { "@moat/backend-api": "^2" } }, files: { "index.js": backendSource("v2", { contract: "2.0.0" }) } },
  { name: "moat-backend-throws", files: { "index.js": 'throw new Error("cannot open kvm.node: invalid ELF header");\n' } },
  { name: "moat-backend-missingdep", files: { "index.js": 'import "no-such-dependency-xyz";\nexport function createBackend() {}\n' } },
  { name: "moat-backend-noexport", files: { "index.js": "export const hello = 1;\n" } },
  { name: "moat-backend-factorythrows", files: { "index.js": 'export function createBackend() { throw new TypeError("host CPU lacks EPT"); }\n' } },
  { name: "moat-backend-esmonly", manifest: { exports: { ".": { import: "./lib/main.mjs" } } }, files: { "lib/main.mjs": backendSource("esmonly") } },
  { name: "moat-backend-macos", manifest: { os: ["darwin"], cpu: ["arm64"] }, files: { "index.js": backendSource("macos") } },
  {
    name: "@moat/backend-kvm",
    files: { "index.js": backendSource("kvm", { available: false, reason: "/dev/kvm: permission denied", fix: "sudo usermod -aG kvm $USER, then log in again" }) },
  },
  { name: "@moat/backend-qemu", files: { "index.js": backendSource("qemu", { accelerated: false }) } },
];

/** Writes the fixture packages; returns the project folder (holding node_modules) and a cleanup. */
export function writeFixtures(only?: readonly string[]): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "moat-core-fixtures-"));
  for (const pkg of PACKAGES) {
    if (only && !only.includes(pkg.name)) continue;
    const root = join(dir, "node_modules", pkg.name);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: pkg.name, version: "1.2.3", type: "module", main: "index.js", ...pkg.manifest }));
    for (const [file, text] of Object.entries(pkg.files)) {
      mkdirSync(join(root, file, ".."), { recursive: true });
      writeFileSync(join(root, file), text);
    }
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
