/** vitest project for @moat/bench-rpc: a tiny smoke run of the benchmark (not a measurement). */
import { defineProject, mergeConfig } from "vitest/config";
import { shared } from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineProject({ test: { name: "bench-rpc", globalSetup: ["../../packages/rpc/test/global-setup.ts"] } }),
);
