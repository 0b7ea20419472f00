/** The job script runs the exact argv in the given cwd with exactly the passed environment (checked with the real /bin/sh). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jobScript, passedEnvironment, writeJob } from "../src/job.js";

describe("job script", () => {
  it("keeps every argument intact, quotes and all, and runs in cwd with the given env only", () => {
    const dir = mkdtempSync(join(tmpdir(), "job-test-"));
    try {
      const args = ["it's", "a b", "$HOME", "`x`", "K=V", '"q"', ""];
      const script = jobScript(["/bin/sh", "-c", 'printf "%s|" "$PWD" "$MOAT_X" "${HOME-unset}" "$@"', "argv0", ...args], dir, [["MOAT_X", "va'l ue"]]);
      writeFileSync(join(dir, "job.sh"), script);
      const result = spawnSync("/bin/sh", [join(dir, "job.sh")], { encoding: "utf8" });
      expect(result.status).toBe(0);
      expect(result.stdout).toBe([dir, "va'l ue", "unset", ...args].map((a) => `${a}|`).join(""));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a cwd that does not exist with status 125", () => {
    const result = spawnSync("/bin/sh", ["-c", jobScript(["true"], "/no/such/dir", [])], { encoding: "utf8" });
    expect(result.status).toBe(125);
    expect(result.stdout).toContain("cannot enter /no/such/dir");
  });

  it("drops host-session variables and keeps the rest", () => {
    const names = passedEnvironment({ PATH: "/bin", MOAT_A: "1", CI: "true", PWD: "/x", SSH_AUTH_SOCK: "/s", "BAD-NAME": "x" }).map(([n]) => n);
    expect(names.sort()).toEqual(["CI", "MOAT_A", "PATH"]);
  });

  it("writes job.sh and a random nonce", () => {
    const a = writeJob(["true"], "/", {});
    const b = writeJob(["true"], "/", {});
    try {
      expect(readFileSync(join(a.dir, "nonce"), "utf8")).toBe(a.nonce);
      expect(a.nonce).not.toBe(b.nonce);
      expect(readFileSync(join(a.dir, "job.sh"), "utf8")).toContain("exec /usr/bin/env -i");
    } finally {
      rmSync(a.dir, { recursive: true, force: true });
      rmSync(b.dir, { recursive: true, force: true });
    }
  });
});
