/**
 * Settings every package's vitest project shares: workspace packages resolve to their TypeScript
 * sources (the `moat-source` export condition), so tests never need a build of their dependencies.
 */
import type { UserConfig } from "vitest/config";

export const shared: UserConfig = {
  resolve: { conditions: ["moat-source"] },
  ssr: { resolve: { conditions: ["moat-source"] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
};
