/**
 * The `moat` CLI end to end on a real guest (issue acceptance): a real kernel, image and agent booted
 * by whichever backend moat picks here (on our CI machines: the QEMU fallback, as KVM cannot boot
 * guests there; inside the nested-KVM L1, `pnpm --filter @moat/nested-kvm e2e` runs it again with
 * MOAT_BACKEND=kvm), driven only through the command line, with its state in a temp directory.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { moat, removeSuiteState, spawnMoat, suiteState, whyNotHere } from "./moat-cli.js";

const reason = whyNotHere();
if (reason) console.warn(`skipping the CLI end-to-end suite: ${reason}`);

/** The paths of run's one "not copied back" warning line, sorted (the guest's find decides their order). */
function notCopiedBack(stderr: string): string[] | undefined {
  const lines = stderr.split("\n").filter((l) => l.startsWith("moat: not copied back (read-only or hidden by policy): "));
  expect(lines.length, stderr).toBeLessThanOrEqual(1);
  return lines[0]?.slice(lines[0].indexOf("): ") + 3).split(", ").sort();
}

describe.skipIf(reason !== undefined)("moat CLI end to end", { timeout: 600_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => ({ dir, env } = await suiteState("moat-cli-e2e-")));
  afterAll(() => removeSuiteState(dir ? { dir, env } : undefined));

  test("run --rm prints the guest kernel release and 42, exits 0; false exits 1", async () => {
    const ok = await moat(["run", "--rm", "--no-workspace", "--", "sh", "-c", "uname -sr; echo $((6*7))"], env);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Linux 6\.1\.\S+\n42\n$/);

    const bad = await moat(["run", "--rm", "--no-workspace", "--", "false"], env);
    expect(bad.status).toBe(1);
    expect(JSON.parse((await moat(["ls", "--json"], env)).stdout)).toEqual([]);
  });

  test("the workspace appears at the same path, and files made there come back", async () => {
    const ws = join(dir, "workspace");
    await rm(ws, { recursive: true, force: true });
    await mkdir(ws);
    await writeFile(join(ws, "input.txt"), "from the host\n");
    const r = await moat(["run", "--rm", "--", "sh", "-c", "pwd; cat input.txt; echo made in the guest > output.txt"], env, { cwd: ws });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${ws}\nfrom the host\n`);
    expect(await readFile(join(ws, "output.txt"), "utf8")).toBe("made in the guest\n");

    // The README's first command: no --name (disposable), default workspace, a command that changes nothing.
    const plain = await moat(["run", "--", "uname", "-r"], env, { cwd: ws });
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^6\.1\.\S+\n$/);
    expect(JSON.parse((await moat(["ls", "--json"], env)).stdout)).toEqual([]);

    // A named run keeps its sandbox; started again, the guest's /tmp (a tmpfs) no longer holds this
    // workspace (it lives under the host's /tmp), so exec runs in / instead of failing to chdir.
    const named = await moat(["run", "--name", "kept", "--", "pwd"], env, { cwd: ws });
    expect([named.status, named.stdout], named.stderr).toEqual([0, `${ws}\n`]);
    expect((await moat(["start", "kept"], env)).status).toBe(0);
    const again = await moat(["exec", "kept", "--", "pwd"], env, { cwd: ws });
    expect([again.status, again.stdout], again.stderr).toEqual([0, ws.startsWith("/tmp/") ? "/\n" : `${ws}\n`]);
    expect((await moat(["rm", "--force", "kept"], env)).status).toBe(0);
  });

  test("in a git workspace, changes to git hooks and .moat stay in the guest; .env is not sent in", async () => {
    const ws = join(dir, "git-workspace");
    await rm(ws, { recursive: true, force: true });
    execFileSync("git", ["init", "-q", ws]);
    await writeFile(join(ws, ".env"), "SECRET=from-the-host\n"); // untracked, not ignored: in git's list
    await writeFile(join(ws, "input.txt"), "in\n");
    const script =
      "test -e .env && echo LEAKED; cat input.txt; " +
      "mkdir -p .git/hooks .moat && printf '#!/bin/sh\\necho pwned\\n' > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout; " +
      "echo 'version: 1' > .moat/policy.yaml; echo fine > ok.txt";
    const r = await moat(["run", "--rm", "--", "sh", "-c", script], env, { cwd: ws });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("in\n");
    expect(await readFile(join(ws, "ok.txt"), "utf8")).toBe("fine\n");
    await expect(access(join(ws, ".git", "hooks", "post-checkout"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(access(join(ws, ".moat"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(notCopiedBack(r.stderr)).toEqual([".git/hooks/post-checkout", ".moat/policy.yaml"]);
  });

  test("outside git, .env and a directory the project policy denies are not in the guest", async () => {
    const ws = join(dir, "plain-workspace");
    await rm(ws, { recursive: true, force: true });
    await mkdir(join(ws, ".moat"), { recursive: true });
    await mkdir(join(ws, "sub", "deep"), { recursive: true });
    await writeFile(join(ws, ".moat", "policy.yaml"), 'version: 1\nfiles:\n  deny: ["sub/**"]\n');
    await writeFile(join(ws, ".env"), "SECRET=from-the-host\n");
    await writeFile(join(ws, "sub", "deep", "key.txt"), "hidden\n");
    await writeFile(join(ws, "visible.txt"), "visible\n");
    const script = "ls -A; echo hi > made.txt; echo SECRET=guessed > .env; mkdir -p sub && echo x > sub/new.txt";
    const r = await moat(["run", "--rm", "--", "sh", "-c", script], env, { cwd: ws });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual([".moat", "visible.txt"]);
    expect(await readFile(join(ws, "made.txt"), "utf8")).toBe("hi\n");
    // What the guest made at hidden paths does not overwrite or add to them on the host.
    expect(await readFile(join(ws, ".env"), "utf8")).toBe("SECRET=from-the-host\n");
    await expect(access(join(ws, "sub", "new.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(notCopiedBack(r.stderr)).toEqual([".env", "sub/new.txt"]);
  });

  test("create → exec → stop → start → exec sees the state → rm", async () => {
    expect((await moat(["create", "dev"], env)).status).toBe(0);
    expect((await moat(["exec", "dev", "--", "touch", "/root/x"], env)).status).toBe(0);
    expect((await moat(["stop", "dev"], env)).status).toBe(0);
    const stopAgain = await moat(["stop", "dev"], env);
    expect([stopAgain.status, stopAgain.stderr]).toEqual([0, 'moat: sandbox "dev" is not running (stopped); nothing to stop\n']);
    const stopped = JSON.parse((await moat(["ls", "--json"], env)).stdout) as Array<{ name: string; status: string }>;
    expect(stopped.find((s) => s.name === "dev")?.status).toBe("stopped");
    const execStopped = await moat(["exec", "dev", "--", "true"], env);
    expect(execStopped.status).not.toBe(0);
    expect(execStopped.stderr).toMatch(/sandbox "dev" is not running \(stopped\)\nfix: start it with: moat start dev/);
    expect((await moat(["start", "dev"], env)).status).toBe(0);
    const ls = await moat(["exec", "dev", "--", "ls", "/root/x"], env);
    expect(ls.stdout).toBe("/root/x\n");
    expect(ls.status).toBe(0);
    // Two execs at once: the first waits for the second. On a transport with one stream per port
    // (the QEMU fallback) this needs the host process's shared agent connection (RpcRelay).
    const waiter = moat(["exec", "dev", "--", "sh", "-c", "for i in $(seq 300); do [ -e /tmp/go ] && echo waited && exit 0; sleep 0.1; done; exit 9"], env);
    await new Promise((r) => setTimeout(r, 1000));
    const go = await moat(["exec", "dev", "--", "sh", "-c", "touch /tmp/go; echo go"], env);
    expect([go.status, go.stdout]).toEqual([0, "go\n"]);
    const waited = await waiter;
    expect([waited.status, waited.stdout]).toEqual([0, "waited\n"]);
    const taken = await moat(["create", "dev"], env);
    expect(taken.status).not.toBe(0);
    expect(taken.stderr).toMatch(/a sandbox named "dev" already exists/);
    expect((await moat(["rm", "--force", "dev"], env)).status).toBe(0);
  });

  test("killing the VMM host process leaves the sandbox crashed, and rm still works", async () => {
    expect((await moat(["create", "victim"], env)).status).toBe(0);
    const record = JSON.parse(await readFile(join(env.MOAT_STATE_DIR!, "sandboxes", "victim", "sandbox.json"), "utf8")) as { hostPid: number; id: string; runningBackend: string };
    // The QEMU backend keeps its sockets in the sandbox's runtime directory (MachineSpec.runtimeDir), not in /tmp.
    if (record.runningBackend === "qemu") expect(readdirSync(join(env.MOAT_RUNTIME_DIR!, record.id)).some((n) => n.startsWith("moat-qemu-"))).toBe(true);
    // A copy out that never ends (/dev/zero) is running when the VMM goes: it names how the sandbox
    // ended, and leaves nothing half-written on the host.
    const outDir = join(dir, "cp-out");
    await mkdir(outDir);
    const copy = spawnMoat(["cp", "victim:/dev/zero", join(outDir, "zero")], env);
    copy.stdin.end();
    let copyErr = "";
    copy.stderr.setEncoding("utf8").on("data", (d: string) => (copyErr += d));
    const copyStatus = new Promise<number | null>((resolve) => copy.once("close", resolve));
    for (let i = 0; i < 200 && !readdirSync(outDir).some((n) => statSync(join(outDir, n)).size > 1 << 20); i++) await new Promise((r) => setTimeout(r, 100));
    process.kill(record.hostPid, "SIGKILL");
    expect(await copyStatus, copyErr).toBe(1);
    expect(copyErr).toMatch(new RegExp(`^moat: sandbox "victim" ended while reading /dev/zero \\(crashed: the VMM host process \\(pid ${record.hostPid}\\) is gone\\)\n`));
    expect(readdirSync(outDir)).toEqual([]);
    const listed = JSON.parse((await moat(["ls", "--json"], env)).stdout) as Array<{ name: string; status: string }>;
    expect(listed.find((s) => s.name === "victim")?.status).toBe("crashed");
    expect((await moat(["rm", "victim"], env)).status).toBe(0);
    expect(JSON.parse((await moat(["ls", "--json"], env)).stdout)).toEqual([]);
    // Nothing of it is left in the runtime directory either (the backend's sockets live in the sandbox's own).
    expect(readdirSync(env.MOAT_RUNTIME_DIR!)).toEqual([]);
  });

  test("Ctrl-C (SIGINT) reaches the guest command when stdin is not a terminal", async () => {
    expect((await moat(["create", "sig"], env)).status).toBe(0);
    const child = spawnMoat(["exec", "sig", "--", "sh", "-c", "trap 'echo GOT-INT; exit 5' INT; echo ready; while :; do sleep 0.1; done"], env);
    child.stdin.end(); // stdin at EOF before the signal, as with </dev/null or in CI
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const status = new Promise<number | null>((resolve) => child.once("close", resolve));
    await new Promise<void>((resolve) =>
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("ready\n")) resolve();
      }),
    );
    child.kill("SIGINT");
    expect(await status, stderr).toBe(5);
    expect(stdout).toBe("ready\nGOT-INT\n");
    expect((await moat(["rm", "--force", "sig"], env)).status).toBe(0);
  });

  test("a disposable sandbox whose moat run was SIGKILLed is killed and removed by its VMM host", async () => {
    const child = spawnMoat(["run", "--no-workspace", "--", "sh", "-c", "echo ready; sleep 600"], env);
    child.stdin.end();
    await new Promise<void>((resolve) => child.stdout.setEncoding("utf8").on("data", (d: string) => d.includes("ready") && resolve()));
    const [running] = JSON.parse((await moat(["ls", "--json"], env)).stdout) as Array<{ name: string; status: string }>;
    expect(running?.status).toBe("running");
    const record = JSON.parse(await readFile(join(env.MOAT_STATE_DIR!, "sandboxes", running!.name, "sandbox.json"), "utf8")) as { hostPid: number };
    child.kill("SIGKILL");
    let left: unknown[] = [running];
    for (let i = 0; i < 150 && left.length > 0; i++, await new Promise((r) => setTimeout(r, 200))) {
      left = JSON.parse((await moat(["ls", "--json"], env)).stdout) as unknown[];
    }
    expect(left).toEqual([]);
    // The VMM host process ends right after (a zombie until init reaps it counts as ended).
    const gone = () => {
      try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${record.hostPid}/stat`, "utf8"));
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 50 && !gone(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(gone()).toBe(true);
  });

  test("while a sandbox boots, ls shows it starting, never crashed; a moat run interrupted during boot leaves nothing behind", async () => {
    const creating = moat(["create", "booting"], env);
    const seen = new Set<string>();
    let done = false;
    void creating.then(() => (done = true));
    while (!done) {
      const listed = JSON.parse((await moat(["ls", "--json"], env)).stdout) as Array<{ name: string; status: string }>;
      for (const s of listed) seen.add(s.status);
    }
    expect((await creating).status).toBe(0);
    expect(seen.has("crashed")).toBe(false);
    const [booted] = JSON.parse((await moat(["ls", "--json"], env)).stdout) as Array<{ status: string; lastExit: unknown }>;
    expect(booted).toMatchObject({ status: "running", lastExit: null });
    expect((await moat(["rm", "--force", "booting"], env)).status).toBe(0);

    // Ctrl-C before the guest is up: the CLI goes, its VMM host process finishes the boot, sees its
    // owner gone and removes the disposable sandbox.
    const run = spawnMoat(["run", "--no-workspace", "--", "true"], env);
    run.stdin.end();
    let ls: unknown[] = [];
    for (let i = 0; i < 100 && ls.length === 0; i++, await new Promise((r) => setTimeout(r, 100))) {
      ls = JSON.parse((await moat(["ls", "--json"], env)).stdout) as unknown[];
    }
    run.kill("SIGINT");
    for (let i = 0; i < 300 && ls.length > 0; i++, await new Promise((r) => setTimeout(r, 200))) {
      ls = JSON.parse((await moat(["ls", "--json"], env)).stdout) as unknown[];
    }
    expect(ls).toEqual([]);
  });

  test("a guest kernel panic ends the command and leaves the sandbox crashed; exec names the panic", async () => {
    expect((await moat(["create", "--memory", "256", "panicky"], env)).status).toBe(0);
    // A real panic, no debug options needed: out of memory with vm.panic_on_oom set.
    const oom = await moat(["exec", "panicky", "--", "sh", "-c", "echo 1 > /proc/sys/vm/panic_on_oom && tail /dev/zero"], env);
    expect(oom.status).toBe(1);
    const panicked = "(crashed: the guest kernel panicked: Out of memory: system-wide panic_on_oom is enabled)";
    expect(oom.stderr).toContain(`moat: sandbox "panicky" ended while the command ran ${panicked}\n`);
    const listed = JSON.parse((await moat(["ls", "--json"], env)).stdout) as Array<{ name: string; status: string }>;
    expect(listed.find((s) => s.name === "panicky")?.status).toBe("crashed");
    const after = await moat(["exec", "panicky", "--", "true"], env);
    expect(after.status).not.toBe(0);
    expect(after.stderr).toBe(
      `moat: sandbox "panicky" is not running ${panicked}\n` +
        "fix: see its console with: moat logs panicky; start it again with: moat start panicky\n",
    );
    expect((await moat(["rm", "panicky"], env)).status).toBe(0);
  });

  test("bad input: unknown sandbox, invalid -e, a broken state file", async () => {
    const unknown = await moat(["exec", "ghost", "--", "true"], env);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toBe('moat: no sandbox named "ghost"\nfix: list sandboxes with: moat ls\n');
    const badEnv = await moat(["run", "-e", "NOEQUALS", "--", "true"], env);
    expect(badEnv.status).not.toBe(0);
    expect(badEnv.stderr).toMatch(/argument 'NOEQUALS' is invalid\. Write -e KEY=VALUE/);

    // A broken state file: ls reports it (and moves it aside), rm without --force says what to do, rm --force removes it.
    expect((await moat(["create", "--no-start", "mangled"], env)).status).toBe(0);
    await writeFile(join(env.MOAT_STATE_DIR!, "sandboxes", "mangled", "sandbox.json"), '{"broken');
    const ls = await moat(["ls"], env);
    expect(ls.stdout).toMatch(/^mangled +broken/m);
    expect(ls.stderr).toMatch(/^moat: the state of sandbox "mangled" is broken: not valid JSON .*; moved it to .*sandbox\.json\.broken-\d+\nfix: remove it with: moat rm --force mangled\n$/);
    const rm = await moat(["rm", "mangled"], env);
    expect(rm.status).not.toBe(0);
    expect(rm.stderr).toMatch(/is broken: its directory has no sandbox\.json.*\nfix: inspect .*; remove the sandbox with: moat rm --force mangled\n$/);
    expect((await moat(["rm", "--force", "mangled"], env)).status).toBe(0);
    expect(JSON.parse((await moat(["ls", "--json"], env)).stdout)).toEqual([]);
  });
});
