/** One vitest workspace at the root: a project per package that has a vitest.config.ts. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["{packages,backends,guest,tools,benchmarks}/*/vitest.config.ts"],
  },
});
