/** inspectBackends(): one report per known/registered/discovered backend; trouble becomes the report. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { createFakeBackend } from "@moat/backend-api/testing";
import { inspectBackends, registerBackend, type BackendReport } from "../../src/index.js";
import { writeFixtures } from "./fixtures.js";

let fixtures: { dir: string; cleanup: () => void };
let reports: Map<string, BackendReport>;

beforeAll(async () => {
  fixtures = writeFixtures();
  const unregister = registerBackend("inproc", () => createFakeBackend({ name: "inproc" }));
  try {
    const list = await inspectBackends({ resolveFrom: [fixtures.dir], searchDefaultBases: false, platform: "linux", arch: "x64" });
    reports = new Map(list.map((r) => [r.name, r]));
  } finally {
    unregister();
  }
});
afterAll(() => fixtures.cleanup());

test("known, registered and discovered backends are all reported", () => {
  expect([...reports.keys()].sort()).toEqual(
    ["kvm", "hvf", "whp", "qemu", "inproc", "good", "v2", "throws", "missingdep", "noexport", "factorythrows", "esmonly", "macos"].sort(),
  );
});

test("installed and unavailable, with the probe's reason and fix", () => {
  expect(reports.get("kvm")).toMatchObject({ installed: true, available: false, candidateRank: 0, version: "1.2.3", reason: "/dev/kvm: permission denied", fix: "sudo usermod -aG kvm $USER, then log in again" });
  expect(reports.get("qemu")).toMatchObject({ installed: true, available: true, candidateRank: 1, probe: { features: { hardwareAccelerated: false } } });
  expect(reports.get("inproc")).toMatchObject({ installed: true, available: true, source: "registered" });
});

test("other platforms' backends: not installed, with this platform named", () => {
  expect(reports.get("hvf")).toMatchObject({ installed: false, platformSupported: false, available: false, reason: "not installed (this platform: linux/x64; hvf runs on darwin)" });
  expect(reports.get("macos")).toMatchObject({ installed: false, platformSupported: false, reason: "not installed (this platform: linux/x64; moat-backend-macos is for darwin on arm64)" });
});

test("load failures are reported as installed with the error, not as missing", () => {
  expect(reports.get("throws")).toMatchObject({ installed: true, available: false, errorCode: "LOAD_FAILED", reason: expect.stringContaining("failed to load: cannot open kvm.node") });
  expect(reports.get("v2")).toMatchObject({ installed: true, available: false, errorCode: "INCOMPATIBLE_CONTRACT" });
});
