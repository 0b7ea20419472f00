/**
 * Backend selection against real packages on disk (fixtures) and real registrations: the order of
 * the selection order (README, "Usage"), fallbacks, contract checks, and the exact diagnosing messages for bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BackendErrorCode, CONTRACT_VERSION, isBackendError } from "@moat/backend-api";
import { createFakeBackend } from "@moat/backend-api/testing";
import { chooseBackend, loadBackend, loadBackendWithInfo, registerBackend, type ChooseBackendOptions } from "../../src/index.js";
import { writeFixtures } from "./fixtures.js";

let fixtures: { dir: string; cleanup: () => void };
let base: ChooseBackendOptions;

beforeAll(() => {
  fixtures = writeFixtures();
  base = { resolveFrom: [fixtures.dir], searchDefaultBases: false, platform: "linux", arch: "x64", env: {} };
});
afterAll(() => fixtures.cleanup());

/** The BackendError a promise rejects with (fails the test if it resolves or throws something else). */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isBackendError(error)) throw new Error(`expected a BackendError, got ${String(error)}`);
  return error;
}

describe("loading by name", () => {
  test("a package found by its plain name loads, with version and folder", async () => {
    const loaded = await loadBackendWithInfo("good", base);
    expect(loaded).toMatchObject({ name: "good", source: "package", packageName: "moat-backend-good", version: "1.2.3" });
    expect(loaded.dir).toContain("moat-backend-good");
  });

  test("an ESM-only package (exports.import) loads", async () => {
    expect((await loadBackend("esmonly", base)).name).toBe("esmonly");
  });

  test("unknown backend name: what was looked for, what is installed, the fix", async () => {
    const error = await failure(chooseBackend({ ...base, explicit: "nope" }));
    expect(error.code).toBe(BackendErrorCode.NOT_INSTALLED);
    expect(error.message).toMatch(
      /^unknown backend "nope": looked for a registered backend "nope" and the packages @moat\/backend-nope and moat-backend-nope in \/.*moat-core-fixtures-.*\/node_modules, and found neither\. Known backends: kvm, hvf, whp, qemu\. Installed: .*good \(moat-backend-good 1\.2\.3\).*\.$/,
    );
    expect(error.message).toContain("kvm (@moat/backend-kvm 1.2.3)");
    expect(error.message).toContain("macos (moat-backend-macos 1.2.3, not for this platform)");
    expect(error.fix).toBe("check the spelling, or install the backend's package (pnpm add moat-backend-nope); on linux moat uses: kvm, qemu");
  });

  test("a name that cannot be a package is refused as such", async () => {
    const error = await failure(loadBackend("KVM!", base));
    expect(error.message).toBe('unknown backend "KVM!": not a backend name (backend names are lowercase words like "kvm")');
    expect(error.fix).toBe("use one of: kvm, hvf, whp, qemu (or the name of an installed moat-backend-<name> package)");
  });

  test("a backend of another contract major: which versions fit", async () => {
    const error = await failure(chooseBackend({ ...base, env: { MOAT_BACKEND: "v2" } }));
    expect(error.code).toBe(BackendErrorCode.INCOMPATIBLE_CONTRACT);
    const ours = CONTRACT_VERSION.replaceAll(".", "\\.");
    expect(error.message).toMatch(
      new RegExp(
        `^backend "v2": package moat-backend-v2@1\\.2\\.3 \\(.*\\) implements backend contract "2\\.0\\.0", but this moat speaks contract ${ours}; its package declares @moat/backend-api \\^2\\. Versions that fit: backends built for @moat/backend-api \\^1 \\(contract 1\\.x\\)\\.`,
      ),
    );
    expect(error.fix).toBe("install a release of moat-backend-v2 whose peerDependencies list @moat/backend-api ^1, or a moat whose contract matches the backend's");
  });

  test("a package that throws on load is LOAD_FAILED with the original error as cause", async () => {
    const error = await failure(loadBackend("throws", base));
    expect(error.code).toBe(BackendErrorCode.LOAD_FAILED);
    expect(error.message).toMatch(/^backend "throws": package moat-backend-throws@1\.2\.3 \(.*\) failed to load: cannot open kvm\.node: invalid ELF header$/);
    expect((error.cause as Error).message).toBe("cannot open kvm.node: invalid ELF header");
  });

  test("a package whose own dependency is missing is LOAD_FAILED, not 'not installed'", async () => {
    const error = await failure(loadBackend("missingdep", base));
    expect(error.code).toBe(BackendErrorCode.LOAD_FAILED);
    expect(error.message).toMatch(/failed to load: Cannot find package 'no-such-dependency-xyz'/);
    expect((error.cause as { code?: string }).code).toBe("ERR_MODULE_NOT_FOUND");
  });

  test("a package without createBackend() and a throwing factory", async () => {
    expect((await failure(loadBackend("noexport", base))).message).toMatch(/moat-backend-noexport@1\.2\.3 .* does not export createBackend\(\); it is not a moat backend$/);
    const thrown = await failure(loadBackend("factorythrows", base));
    expect(thrown.message).toMatch(/: createBackend\(\) failed to load: TypeError: host CPU lacks EPT$/);
    expect(thrown.cause).toBeInstanceOf(TypeError);
  });

  test("a package for another platform is not offered here", async () => {
    const error = await failure(loadBackend("macos", base));
    expect(error.message).toMatch(/^backend "macos" is not available for this platform: moat-backend-macos runs on darwin \(arm64\); this host is linux\/x64\./);
    expect(error.fix).toBe('on linux use one of: kvm, qemu (run "moat doctor" to see which work here)');
  });

  test("a known backend of another platform, not installed", async () => {
    const error = await failure(loadBackend("hvf", base));
    expect(error.message).toMatch(/^backend "hvf" is not available for this platform: @moat\/backend-hvf runs on darwin; this host is linux\/x64\./);
  });
});

describe("choosing", () => {
  test("default on linux: kvm first, falling back to qemu with a warning naming reason and cost", async () => {
    const choice = await chooseBackend(base);
    expect(choice.name).toBe("qemu");
    expect(choice.source).toBe("candidates");
    expect(choice.considered.map((v) => v.name)).toEqual(["kvm", "qemu"]);
    expect(choice.warning).toBe(
      "moat: kvm cannot run guests here (/dev/kvm: permission denied); using qemu (software emulation: much slower). Details: moat doctor; MOAT_BACKEND=qemu picks it without this notice.",
    );
  });

  test("explicit choice of an unavailable backend: its reason and fix, no silent fallback", async () => {
    const error = await failure(chooseBackend({ ...base, explicit: "kvm" }));
    expect(error.code).toBe(BackendErrorCode.UNAVAILABLE);
    expect(error.message).toBe('backend "kvm" (chosen explicitly) cannot run guests here: /dev/kvm: permission denied');
    expect(error.fix).toBe("sudo usermod -aG kvm $USER, then log in again; or leave out --backend to let moat pick a backend that works here (moat doctor lists them)");
  });

  test("MOAT_BACKEND picks a backend; the option overrides it", async () => {
    expect((await chooseBackend({ ...base, env: { MOAT_BACKEND: "good" } })).source).toBe("env");
    const choice = await chooseBackend({ ...base, env: { MOAT_BACKEND: "kvm" }, explicit: "esmonly" });
    expect([choice.name, choice.source]).toEqual(["esmonly", "option"]);
  });

  test("MOAT_BACKEND naming nothing installed says it came from MOAT_BACKEND", async () => {
    const error = await failure(chooseBackend({ ...base, env: { MOAT_BACKEND: "nope" } }));
    expect(error.message).toMatch(/\(chosen by MOAT_BACKEND=nope\)$/);
  });

  test("nothing available: a diagnosis of every candidate", async () => {
    const error = await failure(chooseBackend({ ...base, candidates: ["kvm", "hvf", "throws"] }));
    expect(error.code).toBe(BackendErrorCode.UNAVAILABLE);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe("no backend can run guests on this host (linux/x64); tried kvm, hvf, throws:");
    expect(lines[1]).toBe("  - kvm (@moat/backend-kvm 1.2.3): installed but cannot run guests here: /dev/kvm: permission denied (fix: sudo usermod -aG kvm $USER, then log in again)");
    expect(lines[2]).toMatch(/^ {2}- hvf: backend "hvf" is not available for this platform/);
    expect(lines[3]).toMatch(/^ {2}- throws: backend "throws": package moat-backend-throws@1\.2\.3 .* failed to load: cannot open kvm\.node/);
    expect(error.fix).toBe("make one of the backends above work (each line ends with its fix); moat doctor shows every backend's state");
    expect((error.cause as { code?: string }).code).toBe("LOAD_FAILED");
  });

  test("nothing installed at all: NOT_INSTALLED", async () => {
    const empty = writeFixtures([]);
    try {
      const error = await failure(chooseBackend({ ...base, resolveFrom: [empty.dir] }));
      expect(error.code).toBe(BackendErrorCode.NOT_INSTALLED);
      expect(error.message).toMatch(/^no backend can run guests on this host \(linux\/x64\); tried kvm, qemu:\n {2}- kvm: backend "kvm" \(Linux KVM with moat's own VMM\) is not installed: looked for a registered backend "kvm" and the packages @moat\/backend-kvm and moat-backend-kvm in .*\. Installed: none\./);
    } finally {
      empty.cleanup();
    }
  });

  test("registered backends come before packages and before platform defaults", async () => {
    const unregister = registerBackend("mine", () => createFakeBackend({ name: "mine" }));
    const shadow = registerBackend("kvm", () => createFakeBackend({ name: "kvm" }));
    try {
      const choice = await chooseBackend(base);
      expect([choice.name, choice.loaded.source]).toEqual(["mine", "registered"]);
      expect((await loadBackendWithInfo("kvm", base)).source).toBe("registered");
    } finally {
      unregister();
      shadow();
    }
    expect((await loadBackendWithInfo("kvm", base)).source).toBe("package");
  });

  test("a registered factory that throws, and bad registrations", async () => {
    const unregister = registerBackend("boom", () => {
      throw new Error("no hypervisor handle");
    });
    try {
      const error = await failure(loadBackend("boom", base));
      expect(error.message).toBe('backend "boom": the registered factory failed to load: no hypervisor handle');
    } finally {
      unregister();
    }
    expect(() => registerBackend("Bad Name", () => createFakeBackend())).toThrow(/registerBackend: name "Bad Name" is not a backend name/);
  });

  test("a bad MachineSpec reaches the chosen backend and comes back as INVALID_SPEC naming the field", async () => {
    const unregister = registerBackend("mine", () => createFakeBackend({ name: "mine" }));
    try {
      const { backend } = await chooseBackend({ ...base, explicit: "mine" });
      const error = await failure(backend.createMachine({ vcpus: 1, memoryMiB: -64, kernel: { cmdline: "" }, disks: [], shares: [] } as never));
      expect(error.code).toBe(BackendErrorCode.INVALID_SPEC);
      expect(error.message).toContain("memoryMiB = -64: must be between 1 and 1048576 MiB");
      expect(error.message).toContain("kernel.path = missing: is missing (fix: set kernel.path to the absolute path of an uncompressed vmlinux");
    } finally {
      unregister();
    }
  });
});
