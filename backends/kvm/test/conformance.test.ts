/**
 * The @moat/backend-api conformance kit against the KVM backend, twice:
 *  - as users get it: on hosts where guest kernels cannot boot (our nested-PVM CI) the lifecycle
 *    checks skip with the probe's reason and the unavailable-refuses check runs;
 *  - in T1 mode with a CPL3 payload that spins, so start/stop/kill/pause/resume run on real KVM.
 * The full-kernel lifecycle runs under the nested-KVM harness (T2).
 */
import { join } from "node:path";
import { describeBackendConformance } from "@moat/backend-api/conformance";
import { afterAll, describe } from "vitest";
import { createBackend } from "../src/index.js";
import { asm, assemble, skipReason, tempDir } from "./helpers/kvm.js";

describeBackendConformance("kvm", () => createBackend(), { stepTimeoutMs: 20_000 });

const dir = tempDir();
afterAll(() => dir.cleanup());

describe.skipIf(skipReason)("T1 mode", () => {
  const spin = assemble(dir.path, "spin", asm.spin);
  describeBackendConformance("kvm (T1 payload)", () => createBackend({ testPayload: { path: spin } }), {
    stepTimeoutMs: 4000,
    bootableSpec: ({ workDir }) => ({
      vcpus: 2,
      memoryMiB: 64,
      kernel: { path: spin, cmdline: "" },
      disks: [],
      vsock: { guestCid: 3, udsPath: join(workDir, "v.sock") },
      shares: [],
    }),
  });
});
