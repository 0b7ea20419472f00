/** `moat cp` endpoints: which side is the sandbox, and the error for a sandbox side without an absolute path. */
import { describe, expect, test } from "vitest";
import { parseEndpoint } from "../src/commands/cp.js";

describe("moat cp endpoints", () => {
  test.each([
    ["dev:/root/a.txt", { sandbox: "dev", path: "/root/a.txt" }],
    ["my-box.1:/", { sandbox: "my-box.1", path: "/" }],
    ["./notes.txt", { path: "./notes.txt" }],
    ["notes.txt", { path: "notes.txt" }],
    ["/tmp/x:y", { path: "/tmp/x:y" }],
    ["./dev:/root", { path: "./dev:/root" }],
  ])("%s", (text, expected) => {
    expect(parseEndpoint(text)).toEqual(expected);
  });

  test.each(["dev:", "dev:notes.txt", "dev:root/a"])("%s: the sandbox side needs an absolute path, and the fix says how to write it", (text) => {
    let error: (Error & { fix?: string }) | undefined;
    try {
      parseEndpoint(text);
    } catch (e) {
      error = e as Error & { fix?: string };
    }
    expect(error?.message).toBe(`${JSON.stringify(text)}: the sandbox side needs an absolute path`);
    const rest = text.slice("dev:".length);
    expect(error?.fix).toBe(`write it as dev:/${rest || "absolute/path"} (a host file whose name has a colon: ./${text})`);
  });
});
