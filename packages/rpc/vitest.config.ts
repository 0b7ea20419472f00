/** vitest project for @moat/rpc; test/setup.ts generates the protobuf code if a build has not. */
import { defineProject, mergeConfig } from "vitest/config";
import { shared } from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineProject({ test: { name: "rpc", globalSetup: ["./test/global-setup.ts"] } }),
);
