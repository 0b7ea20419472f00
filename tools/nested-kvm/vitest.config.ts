/** The nested-KVM harness tests boot QEMU TCG: few tests, long timeouts, one at a time. */
import { defineProject, mergeConfig } from "vitest/config";
import { shared } from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "nested-kvm",
      include: ["test/**/*.test.ts"],
      testTimeout: 180_000,
      fileParallelism: false,
    },
  }),
);
