/** The doctor's text rendering and next steps, from a hand-made report. */
import { expect, test } from "vitest";
import { nextSteps } from "../src/doctor/next-steps.js";
import { renderDoctorText } from "../src/doctor/render-text.js";
import type { DoctorReport } from "../src/doctor/report.js";

const report = (): DoctorReport => ({
  host: { platform: "linux", arch: "x64", node: "v20.20.2", moat: "0.1.0", contract: "1.0.0" },
  backends: [
    { name: "kvm", installed: true, platformSupported: true, available: false, candidateRank: 0, source: "package", packageName: "@moat/backend-kvm", version: "0.1.0", contractVersion: "1.0.0", reason: "/dev/kvm: permission denied", fix: "sudo usermod -aG kvm $USER" },
    { name: "hvf", installed: false, platformSupported: false, available: false, reason: "not installed (this platform: linux/x64; @moat/backend-hvf is for darwin)" },
  ],
  selected: null,
  selectionError: { code: "UNAVAILABLE", message: "no backend can run guests on this host", fix: "sudo usermod -aG kvm $USER" },
  next: [],
});

test("renders backends, selection and next steps", () => {
  const r = report();
  r.next = nextSteps(r);
  expect(r.next).toEqual(["sudo usermod -aG kvm $USER"]);
  expect(renderDoctorText(r)).toBe(
    [
      "moat 0.1.0 doctor — host linux/x64, Node v20.20.2, backend contract 1.0.0",
      "",
      "Backends:",
      "  kvm    installed: @moat/backend-kvm 0.1.0, contract 1.0.0",
      "         unavailable: /dev/kvm: permission denied",
      "         fix: sudo usermod -aG kvm $USER",
      "  hvf    not installed (not for this platform)",
      "         unavailable: not installed (this platform: linux/x64; @moat/backend-hvf is for darwin)",
      "",
      "Selected: none — no backend can run guests on this host",
      "",
      "Next:",
      "  - sudo usermod -aG kvm $USER",
      "",
    ].join("\n"),
  );
});

test("a selected software backend gets a speed note and the run command", () => {
  const r = report();
  r.selected = { name: "qemu", hardwareAccelerated: false, source: "first available of kvm, qemu" };
  expect(nextSteps(r)).toEqual([
    "moat will run sandboxes on qemu (software emulation: expect slow boots and CPU-heavy work). Try: pnpm moat run -- uname -a",
    "to use kvm: sudo usermod -aG kvm $USER",
  ]);
});
