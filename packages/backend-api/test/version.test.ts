import { expect, test } from "vitest";
import { CONTRACT_VERSION } from "../src/index.js";

test("contract version is semver", () => {
  expect(CONTRACT_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
});
