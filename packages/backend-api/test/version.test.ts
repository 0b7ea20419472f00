/** Contract version helpers, and the package version tracking the contract's major. */
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { CONTRACT_VERSION, compatibleRange, contractMajor, isContractCompatible, parseContractVersion } from "../src/index.js";

test("contract version is semver", () => {
  expect(CONTRACT_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
});

test("package major equals the contract major (backends peer-depend on ^major)", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  expect(contractMajor(pkg.version)).toBe(contractMajor());
});

test("same major fits, other majors do not", () => {
  expect(isContractCompatible("1.0.0", "1.0.0")).toBe(true);
  expect(isContractCompatible("1.7.2", "1.0.0")).toBe(true);
  expect(isContractCompatible("1.0.0", "1.4.0")).toBe(true);
  expect(isContractCompatible("2.0.0", "1.0.0")).toBe(false);
  expect(isContractCompatible("0.9.0", "1.0.0")).toBe(false);
  expect(isContractCompatible("0.1.0", "0.2.0")).toBe(false);
  expect(isContractCompatible("0.2.5", "0.2.0")).toBe(true);
  expect(isContractCompatible("one", "1.0.0")).toBe(false);
  expect(isContractCompatible(undefined, "1.0.0")).toBe(false);
});

test("parse, major and range", () => {
  expect(parseContractVersion("1.2.3-rc.1")).toEqual({ major: 1, minor: 2, patch: 3 });
  expect(parseContractVersion("1.2")).toBeUndefined();
  expect(contractMajor("3.1.0")).toBe(3);
  expect(() => contractMajor("x")).toThrow(/"x" is not semver/);
  expect(compatibleRange("1.4.0")).toBe("^1");
  expect(compatibleRange("0.3.1")).toBe("^0.3");
});
