/**
 * Deliberately broken backends, one contract flaw each, built by wrapping the fake backend. The kit
 * must catch every flaw in the check named beside it (see conformance-kit.test.ts).
 */
import { syntheticSpec } from "../src/conformance.js";
import { findMachineSpecIssues, validateMachineSpec, type Backend, type Machine } from "../src/index.js";
import { createFakeBackend } from "../src/testing.js";

export const FLAWS = {
  "wrong-major": ["identity"],
  "silent-unavailable": ["probe-shape"],
  "flaky-probe": ["probe-stable"],
  "no-validation": ["invalid-specs"],
  "untyped-refusal": ["unavailable-refuses"],
  "stop-not-idempotent": ["lifecycle-start-stop"],
  "wait-never-settles": ["lifecycle-start-stop", "lifecycle-kill"],
  "kill-wrong-reason": ["lifecycle-kill"],
  "pause-ignored": ["pause-resume"],
  "resident-beyond-ram": ["lifecycle-start-stop"],
} as const satisfies Record<string, readonly string[]>;

export type Flaw = keyof typeof FLAWS;

function breakMachine(machine: Machine, flaw: Flaw): Machine {
  return new Proxy(machine, {
    get(target, key) {
      if (flaw === "stop-not-idempotent" && key === "stop") {
        return async (options?: { graceful?: boolean }) => {
          if (target.state === "stopped") throw new Error("already stopped");
          return target.stop(options);
        };
      }
      if (flaw === "wait-never-settles" && key === "wait") return () => new Promise(() => {});
      if (flaw === "kill-wrong-reason" && key === "kill") return async () => ({ ...(await target.kill()), reason: "poweroff" });
      if (flaw === "pause-ignored" && key === "pause") return async () => {};
      if (flaw === "resident-beyond-ram" && key === "stats") {
        return async () => ({ ...(await target.stats()), guestResidentBytes: (target.spec.memoryMiB + 1) * 1024 * 1024 });
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export function createBrokenBackend(flaw: Flaw): Backend {
  const unavailable = flaw === "silent-unavailable" || flaw === "untyped-refusal";
  const fake = createFakeBackend({ name: "broken", available: !unavailable, contractVersion: flaw === "wrong-major" ? "2.0.0" : undefined });
  let probes = 0;
  return {
    name: fake.name,
    contractVersion: fake.contractVersion,
    async probe() {
      const result = await fake.probe();
      if (flaw === "silent-unavailable") delete result.reason;
      if (flaw === "flaky-probe") result.available = probes++ % 2 === 0;
      return result;
    },
    async createMachine(spec) {
      // Accepts anything: an invalid spec gets a machine anyway.
      if (flaw === "no-validation" && findMachineSpecIssues(spec).length > 0) return fake.createMachine(syntheticSpec("/tmp"));
      if (flaw === "untyped-refusal") {
        validateMachineSpec(spec);
        throw new Error("cannot do that");
      }
      return breakMachine(await fake.createMachine(spec), flaw);
    },
  };
}
