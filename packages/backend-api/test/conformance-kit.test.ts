/**
 * The conformance kit itself: the fake backend passes it (registered through vitest exactly as a real
 * backend would), an unavailable backend passes with lifecycle checks skipped, and each deliberately
 * broken backend fails exactly the check that covers its flaw.
 */
import { describe, expect, test } from "vitest";
import { describeBackendConformance, runConformanceChecks, syntheticSpec, type ConformanceOptions } from "../src/conformance.js";
import { createFakeBackend } from "../src/testing.js";
import { createBrokenBackend, FLAWS, type Flaw } from "./broken-backends.js";

const fakeOptions: ConformanceOptions = {
  bootableSpec: ({ workDir }) => syntheticSpec(workDir),
  guestCheck: async (machine) => {
    const stream = await machine.connect(1024);
    const reply = new Promise<string>((resolve) => stream.once("data", (chunk: Buffer) => resolve(chunk.toString())));
    stream.write("ping");
    expect(await reply).toBe("echo:ping");
    stream.destroy();
  },
  stepTimeoutMs: 2_000,
};

const echoGuest = () => createFakeBackend({ guestPorts: { 1024: (guest) => guest.on("data", (chunk: Buffer) => guest.write(`echo:${chunk.toString()}`)) } });

describeBackendConformance("fake (in-memory)", echoGuest, fakeOptions);
describeBackendConformance("fake without pause", () => createFakeBackend({ features: { pause: false } }), { bootableSpec: fakeOptions.bootableSpec });

describe("programmatic runs", () => {
  test("the fake backend passes every check", async () => {
    const results = await runConformanceChecks(echoGuest, fakeOptions);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ["identity", "passed"],
      ["probe-shape", "passed"],
      ["probe-stable", "passed"],
      ["invalid-specs", "passed"],
      ["unavailable-refuses", "skipped"],
      ["lifecycle-start-stop", "passed"],
      ["lifecycle-kill", "passed"],
      ["pause-resume", "passed"],
      ["guest-check", "passed"],
    ]);
  });

  test("an unavailable backend passes, lifecycle checks skipped with the probe's reason", async () => {
    const results = await runConformanceChecks(() => createFakeBackend({ available: false, reason: "no /dev/kvm" }), fakeOptions);
    expect(results.filter((r) => r.status === "failed")).toEqual([]);
    const skipped = results.filter((r) => r.status === "skipped");
    expect(skipped.map((r) => r.id)).toEqual(["lifecycle-start-stop", "lifecycle-kill", "pause-resume", "guest-check"]);
    for (const result of skipped) expect(result).toMatchObject({ reason: 'backend "fake" is unavailable here: no /dev/kvm' });
  });

  test("without a bootable spec, lifecycle checks skip and say so", async () => {
    const results = await runConformanceChecks(() => createFakeBackend(), {}, ["lifecycle-kill", "guest-check"]);
    expect(results).toMatchObject([
      { id: "lifecycle-kill", status: "skipped", reason: "no bootableSpec option given, so there is no guest to boot" },
      { id: "guest-check", status: "skipped", reason: "no guestCheck option given" },
    ]);
  });

  test("a failing guestCheck fails the run", async () => {
    const results = await runConformanceChecks(() => createFakeBackend(), { ...fakeOptions }, ["guest-check"]);
    expect(results[0]).toMatchObject({ status: "failed" });
    expect(results[0]?.status === "failed" && results[0].error.message).toMatch(/no guest service listens on port 1024/);
  });

  const expectedMessages: Record<Flaw, RegExp> = {
    "wrong-major": /contractVersion 2.0.0 does not fit the host's contract 1.2.0 \(a backend must implement \^1\)/,
    "silent-unavailable": /says unavailable but gives no reason/,
    "flaky-probe": /said available=true then available=false/,
    "no-validation": /createMachine\(<negative memory>\) resolved, but must reject with a BackendError \(INVALID_SPEC\)/,
    "untyped-refusal": /rejected with Error: cannot do that, but must reject with a BackendError/,
    "stop-not-idempotent": /stop\(\) on a stopped machine rejected with Error: already stopped/,
    "wait-never-settles": /wait\(\) \(called before stop\) did not settle within 300 ms/,
    "kill-wrong-reason": /kill\(\) must resolve to \{ reason: "killed" \}, got .*"poweroff"/,
    "pause-ignored": /after pause\(\) the state must be "paused", got "running"/,
    "resident-beyond-ram": /stats\(\)\.guestResidentBytes must be whole bytes within the guest's \d+ MiB/,
  };

  test.each(Object.keys(FLAWS) as Flaw[])("broken backend (%s) fails exactly its check", async (flaw) => {
    const results = await runConformanceChecks(() => createBrokenBackend(flaw), { ...fakeOptions, guestCheck: undefined, stepTimeoutMs: 300 });
    const failed = results.filter((r) => r.status === "failed");
    expect(failed.map((r) => r.id)).toEqual(FLAWS[flaw]);
    expect(failed[0]?.status === "failed" && failed[0].error.message).toMatch(expectedMessages[flaw]);
  });
});
