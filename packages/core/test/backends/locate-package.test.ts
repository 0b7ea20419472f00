/** Package location helpers: npm's os/cpu semantics and exports-map entry resolution. */
import { expect, test } from "vitest";
import { packageEntry, supportsPlatform } from "../../src/backends/locate-package.js";

test("os/cpu lists follow npm: allow-lists, !deny-lists, absent means any", () => {
  expect(supportsPlatform({}, "linux", "x64")).toBe(true);
  expect(supportsPlatform({ os: ["darwin"], cpu: ["arm64", "x64"] }, "linux", "x64")).toBe(false);
  expect(supportsPlatform({ os: ["darwin"], cpu: ["arm64", "x64"] }, "darwin", "x64")).toBe(true);
  expect(supportsPlatform({ os: ["linux"], cpu: ["x64"] }, "linux", "arm64")).toBe(false);
  expect(supportsPlatform({ os: ["!win32"] }, "linux", "x64")).toBe(true);
  expect(supportsPlatform({ os: ["!win32"] }, "win32", "x64")).toBe(false);
});

test("entry: exports map (node/import/default + extra conditions), else module/main, else index.js", () => {
  const found = (manifest: object) => ({ packageName: "moat-backend-x", dir: "/p", manifest });
  const exportsMap = { exports: { ".": { "moat-source": "./src/index.ts", types: "./src/index.ts", default: "./dist/index.js" } } };
  expect(packageEntry(found(exportsMap))).toBe("/p/dist/index.js");
  expect(packageEntry(found(exportsMap), ["moat-source"])).toBe("/p/src/index.ts");
  expect(packageEntry(found({ exports: { import: "./esm.mjs", require: "./cjs.cjs" } }))).toBe("/p/esm.mjs");
  expect(packageEntry(found({ main: "lib/main.js" }))).toBe("/p/lib/main.js");
  expect(packageEntry(found({}))).toBe("/p/index.js");
  expect(() => packageEntry(found({ exports: { "./sub": "./sub.js" } }))).toThrow(/Missing "\." specifier in "moat-backend-x" package/);
});
