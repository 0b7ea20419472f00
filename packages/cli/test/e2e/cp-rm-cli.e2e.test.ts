/**
 * `moat cp` and `moat rm` on a real guest, through the CLI only: a copy out that fails leaves the host
 * file as it was, bad endpoints are refused before anything is copied, and the chain
 * `create → exec → stop → start → exec → rm` passes as written (rm stops a running sandbox first).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { moat, removeSuiteState, suiteState, whyNotHere } from "./moat-cli.js";

const reason = whyNotHere();
if (reason) console.warn(`skipping the CLI cp/rm end-to-end suite: ${reason}`);

describe.skipIf(reason !== undefined)("moat cp and rm end to end", { timeout: 600_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => ({ dir, env } = await suiteState("moat-cp-e2e-")));
  afterAll(() => removeSuiteState(dir ? { dir, env } : undefined));

  test("the issue's chain passes as written: create, exec, stop, start, exec sees the state, rm of the running sandbox", async () => {
    for (const args of [["create", "chain"], ["exec", "chain", "--", "touch", "/root/x"], ["stop", "chain"], ["start", "chain"]]) {
      const r = await moat(args, env);
      expect(r.status, `moat ${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    const badCwd = await moat(["exec", "-w", "/no/such/dir", "chain", "--", "true"], env);
    expect([badCwd.status, badCwd.stderr]).toEqual([1, "moat: chdir /no/such/dir: No such file or directory\nfix: look at what is there: moat exec chain -- ls -ld /no/such/dir\n"]);
    const ls = await moat(["exec", "chain", "--", "ls", "/root/x"], env);
    expect(ls.stdout).toBe("/root/x\n");
    const removed = await moat(["rm", "chain"], env);
    expect(removed.status, removed.stderr).toBe(0);
    expect(JSON.parse((await moat(["ls", "--json"], env)).stdout)).toEqual([]);
  });

  test("cp in and out round-trips a file; a failed copy out leaves the host file intact", async () => {
    expect((await moat(["create", "box"], env)).status).toBe(0);
    const src = join(dir, "in.txt");
    await writeFile(src, "from the host\n");
    const put = await moat(["cp", src, "box:/root/"], env);
    expect(put.status, put.stderr).toBe(0);
    const back = join(dir, "back.txt");
    expect((await moat(["cp", "box:/root/in.txt", back], env)).status).toBe(0);
    expect(await readFile(back, "utf8")).toBe("from the host\n");

    const precious = join(dir, "precious.txt");
    await writeFile(precious, "precious data\n");
    const missing = await moat(["cp", "box:/does/not/exist", precious], env);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toBe("moat: cannot copy box:/does/not/exist out of the sandbox: No such file or directory\nfix: look at what is there: moat exec box -- ls -l /does/not\n");
    expect(await readFile(precious, "utf8")).toBe("precious data\n");

    const noHostFile = await moat(["cp", join(dir, "nope"), "box:/root/nope"], env);
    expect(noHostFile.status).not.toBe(0);
    expect(noHostFile.stderr).toBe(`moat: ${join(dir, "nope")}: no such file on the host\nfix: check the path (relative paths start where you ran moat)\n`);
    const relativeSide = await moat(["cp", src, "box:root/in.txt"], env);
    expect(relativeSide.status).not.toBe(0);
    expect(relativeSide.stderr).toMatch(/^moat: "box:root\/in\.txt": the sandbox side needs an absolute path\nfix: write it as box:\/root\/in\.txt /);
    const noGuestDir = await moat(["cp", src, "box:/no/such/dir/x"], env);
    expect(noGuestDir.status).not.toBe(0);
    expect(noGuestDir.stderr).toBe(`moat: cannot copy ${src} into box:/no/such/dir/x: No such file or directory\nfix: create the directory first: moat exec box -- mkdir -p /no/such/dir\n`);
    const dirOut = await moat(["cp", "box:/root", join(dir, "root-copy")], env);
    expect([dirOut.status, dirOut.stderr]).toEqual([
      1,
      "moat: cannot copy box:/root out of the sandbox: Is a directory\nfix: moat cp copies one file; pack the directory first: moat exec box -- tar -czf /tmp/dir.tgz -C / root, then copy /tmp/dir.tgz\n",
    ]);
    const toStdout = await moat(["cp", "box:/root/in.txt", "-"], env);
    expect([toStdout.status, toStdout.stderr]).toEqual([1, "moat: cp does not stream through stdin or stdout (-)\nfix: stream a file with: moat exec box -- cat /root/in.txt > FILE\n"]);
    // Into a directory without the trailing /, as cp(1) does: the file keeps its name.
    const noSlash = await moat(["cp", src, "box:/tmp"], env);
    expect(noSlash.status, noSlash.stderr).toBe(0);
    expect((await moat(["exec", "box", "--", "cat", "/tmp/in.txt"], env)).stdout).toBe("from the host\n");
    expect((await moat(["rm", "--force", "box"], env)).status).toBe(0);
  });
});
