/**
 * `moat doctor` through the real bundled executable (dist/moat.js, built by this package's build):
 * JSON shape, third-party packages found from the working directory, MOAT_BACKEND handling, --help.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CONTRACT_VERSION } from "@moat/backend-api";

const bundle = new URL("../dist/moat.js", import.meta.url).pathname;
const run = promisify(execFile);

/** Runs the bundle; resolves with stdout/stderr/exit code whatever the exit status. */
async function moat(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bundle, ...args], { cwd: options.cwd, env: { ...process.env, MOAT_BACKEND: "", ...options.env } });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

let project: string;

beforeAll(() => {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build the CLI first (pnpm --filter moat build, or pnpm turbo run test which builds it)`);
  // A project folder holding a third-party backend package, as a user's project would.
  project = mkdtempSync(join(tmpdir(), "moat-cli-doctor-"));
  const pkg = join(project, "node_modules", "moat-backend-acme");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "moat-backend-acme", version: "3.1.4", type: "module", main: "index.js" }));
  writeFileSync(
    join(pkg, "index.js"),
    `export function createBackend() {
      return { name: "acme", contractVersion: "1.2.0",
        async probe() { return { available: true, hostArch: "x64", guestArchs: ["x86_64"], details: { vendor: "acme" },
          features: { snapshot: false, pause: false, shares: false, hardwareAccelerated: true } }; },
        async createMachine() { throw new Error("not in this test"); } };
    }\n`,
  );
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("moat doctor", () => {
  test("--json lists kvm, hvf, whp with installed/available/reason, and the host", async () => {
    const { stdout } = await moat(["doctor", "--json"]);
    const report = JSON.parse(stdout) as { host: { platform: string; arch: string }; backends: Array<Record<string, unknown>> };
    expect(report.host).toMatchObject({ platform: process.platform, arch: process.arch, contract: CONTRACT_VERSION });
    const byName = new Map(report.backends.map((b) => [b.name as string, b]));
    for (const name of ["kvm", "hvf", "whp", "qemu"]) {
      const backend = byName.get(name);
      expect(backend, `backend ${name} in the report`).toBeDefined();
      expect(typeof backend!.installed).toBe("boolean");
      expect(typeof backend!.available).toBe("boolean");
      if (!backend!.available) expect(typeof backend!.reason).toBe("string");
    }
    if (process.platform === "linux") {
      for (const name of ["hvf", "whp"]) {
        expect(byName.get(name)).toMatchObject({ installed: false, available: false, platformSupported: false });
        expect(byName.get(name)!.reason).toMatch(new RegExp(`^not installed \\(this platform: linux/${process.arch}; @moat/backend-${name} is for (darwin|win32)`));
      }
    }
  });

  test("finds a third-party moat-backend-* package from the working directory and can select it", async () => {
    const { stdout, code } = await moat(["doctor", "--json"], { cwd: project, env: { MOAT_BACKEND: "acme" } });
    const report = JSON.parse(stdout) as { backends: Array<Record<string, unknown>>; selected: Record<string, unknown> | null };
    expect(report.backends.find((b) => b.name === "acme")).toMatchObject({ installed: true, available: true, packageName: "moat-backend-acme", version: "3.1.4", contractVersion: "1.2.0" });
    expect(report.selected).toMatchObject({ name: "acme", source: "MOAT_BACKEND", hardwareAccelerated: true });
    expect(code).toBe(0);
  });

  test("MOAT_BACKEND naming nothing: the report says why, exit status 1", async () => {
    const { stdout, code } = await moat(["doctor"], { env: { MOAT_BACKEND: "nope" } });
    expect(code).toBe(1);
    expect(stdout).toMatch(/Selected: none — unknown backend "nope": looked for a registered backend "nope" and the packages @moat\/backend-nope and moat-backend-nope .*\(chosen by MOAT_BACKEND=nope\)/);
    expect(stdout).toContain("check the spelling, or install the backend's package (pnpm add moat-backend-nope)");
  });

  test("text output has a block per backend and next steps", async () => {
    const { stdout } = await moat(["doctor"], { cwd: project });
    expect(stdout).toMatch(/^moat \d+\.\d+\.\d+ doctor — host \w+\/\w+, Node v\d+/);
    expect(stdout).toMatch(/^ {2}acme {3}installed: moat-backend-acme 3\.1\.4, contract 1\.2\.0$/m);
    expect(stdout).toMatch(/^ {9}vendor: acme$/m);
    expect(stdout).toMatch(/\nNext:\n {2}- /);
  });
});

describe("help and bad commands", () => {
  test("--help lists doctor; doctor --help explains --json and the exit status", async () => {
    expect((await moat(["--help"])).stdout).toMatch(/^Commands:$[^]*^ +doctor \[options\] +check this host/m);
    const help = (await moat(["doctor", "--help"])).stdout;
    expect(help).toContain("--json");
    expect(help).toContain("Exit status: 0 when some backend can run guests here, 1 when none can.");
  });

  test("--debug is accepted before a command", async () => {
    const { stdout, code } = await moat(["--debug", "doctor", "--json"], { env: { MOAT_BACKEND: "nope" } });
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ selected: null, selectionError: { code: "NOT_INSTALLED" } });
  });

  test("an unknown command is an error naming it", async () => {
    const { stderr, code } = await moat(["frob"]);
    expect(code).toBe(1);
    expect(stderr).toContain("moat: unknown command 'frob'");
    expect(stderr).toMatch(/\nfix: see the commands with: moat --help\n$/);
  });

  test("a command's parse error names that command's usage", async () => {
    const unknownOption = await moat(["ls", "--bogus"]);
    expect(unknownOption.code).toBe(1);
    expect(unknownOption.stderr).toBe("moat: unknown option '--bogus'\nfix: see the usage with: moat ls --help\n");
    expect((await moat(["exec"])).stderr).toBe("moat: missing required argument 'name'\nfix: see the usage with: moat exec --help\n");
  });

  test("sizes and counts out of range are refused while parsing, one message per option, before anything starts", async () => {
    const usage = "\nfix: see the usage with: moat run --help\n";
    for (const cpus of ["0", "1000", "1.5", "two"]) {
      const r = await moat(["run", "--cpus", cpus, "--", "true"]);
      expect([r.code, r.stderr]).toEqual([1, `moat: option '--cpus <n>' argument '${cpus}' is invalid. It must be a whole number from 1 to 64.${usage}`]);
    }
    for (const [memory, why] of [["1", "It must be from 128M to 1024G."], ["100000G", "It must be from 128M to 1024G."], ["lots", "It is not a size: write e.g. 1024, 512M or 2G."]]) {
      const r = await moat(["run", "--memory", memory!, "--", "true"]);
      expect([r.code, r.stderr]).toEqual([1, `moat: option '--memory <size>' argument '${memory}' is invalid. ${why}${usage}`]);
    }
    const env = await moat(["run", "-e", "1X=y", "--", "true"]);
    expect(env.stderr).toBe(`moat: option '-e, --env <KEY=VALUE>' argument '1X=y' is invalid. Write -e KEY=VALUE, KEY made of letters, digits and _ (not starting with a digit).${usage}`);
  });
});
