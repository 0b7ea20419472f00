/**
 * The nested end-to-end suite (vitest project "nested-e2e"). Not part of the root workspace's
 * projects: it needs a /dev/kvm that boots Linux, so it runs through the harness:
 *   pnpm --filter @moat/nested-kvm e2e      (= tools/nested-kvm/run -- vitest run --config e2e/vitest.config.ts)
 */
import { fileURLToPath } from "node:url";
import { defineConfig, mergeConfig } from "vitest/config";
import { shared } from "../../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    root: fileURLToPath(new URL(".", import.meta.url)),
    test: {
      name: "nested-e2e",
      include: ["**/*.e2e.test.ts"],
      testTimeout: 240_000,
      hookTimeout: 240_000,
      fileParallelism: false,
    },
  }),
);
