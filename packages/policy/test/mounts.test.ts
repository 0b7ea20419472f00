/**
 * Mount-table checks on real temporary directories: missing paths, files, symlinks leaving the
 * root (refused, or warned with outsideLinks: warn), links that stay inside, hard links, protected
 * host areas, mounts inside another mount's denied area, broad mounts and --allow-broad.
 */
import { linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { builtinLayer, compileMounts, DiagnosticBag, loadEffectivePolicy, mergeLayers, nodePolicyFs, type PolicyFlags } from "@moat/policy";

let root: string;
let home: string;
let project: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "moat-mounts-"));
  home = join(root, "home");
  project = join(home, "proj");
  mkdirSync(join(project, ".moat"), { recursive: true });
  mkdirSync(join(home, ".ssh"));
  writeFileSync(join(home, ".ssh", "id_ed25519"), "private");
  writeFileSync(join(project, "README.md"), "hi");
});

function load(policy: string, flags: PolicyFlags = {}) {
  writeFileSync(join(project, ".moat", "policy.yaml"), policy);
  return loadEffectivePolicy({ cwd: project, homeDir: home, env: { XDG_CONFIG_HOME: join(root, "xdg") }, flags });
}

const codes = (r: ReturnType<typeof load>) => r.diagnostics.map((d) => `${d.severity}:${d.code}`);

describe("mount table", () => {
  test("the default mount is the project root, read-write at /workspace", () => {
    const r = load("{}");
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.plan.mounts).toHaveLength(1);
    const m = r.plan.mounts[0]!;
    expect(m).toMatchObject({ hostPath: project, guestPath: "/workspace", mode: "rw" });
    expect(m.isDenied(".env")).toBe(true);
    expect(m.isDenied("sub/dir/.env")).toBe(true);
    expect(m.isDenied("README.md")).toBe(false);
    expect(m.isReadonly(".git/hooks/pre-commit")).toBe(true);
    expect(m.isReadonly(".moat/policy.yaml")).toBe(true);
    expect(m.isReadonly("src/index.ts")).toBe(false);
  });

  test("a missing host directory is refused, naming the path", () => {
    const r = load("files:\n  mounts:\n    - {host: ./data, guest: /data}\n");
    expect(r.ok).toBe(false);
    const d = r.diagnostics.find((x) => x.code === "mount-missing")!;
    expect(d.message).toContain(join(project, "data"));
    expect([d.line, d.column]).toEqual([3, 7]);
  });

  test("a file is not a mountable directory", () => {
    const r = load("files:\n  mounts:\n    - {host: README.md, guest: /r}\n");
    expect(codes(r)).toContain("error:mount-not-directory");
  });

  test("a symlink leaving the mount root is refused before boot", () => {
    mkdirSync(join(project, "src"));
    symlinkSync(join(home, ".ssh", "id_ed25519"), join(project, "src", "key"));
    const r = load("{}");
    expect(r.ok).toBe(false);
    const d = r.diagnostics.find((x) => x.code === "symlink-escape")!;
    expect(d.severity).toBe("error");
    expect(d.message).toContain("src/key");
  });

  test("a relative symlink climbing out with .. is refused too", () => {
    symlinkSync("../../", join(project, "up"));
    expect(codes(load("{}"))).toContain("error:symlink-escape");
  });

  test("a dangling symlink pointing outside is refused", () => {
    symlinkSync("/nonexistent/elsewhere", join(project, "dangling"));
    expect(codes(load("{}"))).toContain("error:symlink-escape");
  });

  test("symlinks staying inside the root are fine", () => {
    mkdirSync(join(project, "lib"));
    symlinkSync("../README.md", join(project, "lib", "readme"));
    symlinkSync("lib", join(project, "lib2"));
    const r = load("{}");
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
  });

  test("outsideLinks: warn turns the refusal into a warning", () => {
    symlinkSync("/etc/passwd", join(project, "pw"));
    const r = load("files:\n  outsideLinks: warn\n");
    expect(r.ok).toBe(true);
    expect(codes(r)).toContain("warning:symlink-escape");
  });

  test("a link inside a denied area is not reported (the guest cannot see it)", () => {
    symlinkSync("/etc/passwd", join(project, ".env"));
    expect(load("{}").ok).toBe(true);
  });

  test("files with other hard links are a warning at plan time", () => {
    writeFileSync(join(root, "outside.txt"), "shared");
    linkSync(join(root, "outside.txt"), join(project, "linked.txt"));
    const r = load("{}");
    expect(r.ok).toBe(true);
    const d = r.diagnostics.find((x) => x.code === "hardlink")!;
    expect(d.severity).toBe("warning");
    expect(d.message).toContain("linked.txt");
    expect(d.message).toContain("rw mount at /workspace");
  });

  test("a mount inside a protected host area is refused", () => {
    const r = load("files:\n  mounts:\n    - {host: ~/.ssh, guest: /keys, mode: ro}\n");
    const d = r.diagnostics.find((x) => x.code === "mount-denied-area")!;
    expect(d.severity).toBe("error");
    expect(d.message).toContain(join(home, ".ssh"));
  });

  test("a mount inside another mount's denied area is refused", () => {
    mkdirSync(join(project, "secrets"));
    const r = load("files:\n  deny: [secrets/**]\n  mounts:\n    - {host: ./secrets, guest: /s, mode: ro}\n");
    const d = r.diagnostics.find((x) => x.code === "mount-denied-area")!;
    expect(d.message).toMatch(/inside a denied area of the mount at \/workspace/);
    expect([d.line, d.column]).toEqual([4, 7]);
  });

  test("mounting the home directory read-write needs allowBroad; read-only is a warning", () => {
    const rw = load("files:\n  mounts:\n    - {host: \"~\", guest: /home, mode: rw}\n");
    const d = rw.diagnostics.find((x) => x.code === "broad-mount")!;
    expect(d.severity).toBe("error");
    expect(d.hint).toContain("--allow-broad");
    const allowed = load("files:\n  mounts:\n    - {host: \"~\", guest: /home, mode: rw}\n", { allowBroad: true });
    expect(allowed.diagnostics.find((x) => x.code === "broad-mount")!.severity).toBe("warning");
    const ro = load("files:\n  mounts:\n    - {host: \"~\", guest: /home, mode: ro}\n");
    expect(ro.diagnostics.find((x) => x.code === "broad-mount")!.severity).toBe("warning");
    // The credentials inside are hidden from the guest even so.
    const home = ro.plan.mounts.find((m) => m.guestPath === "/home")!;
    expect(home.isDenied(".ssh/id_ed25519")).toBe(true);
    expect(home.isDenied("proj/README.md")).toBe(false);
  });

  test("mounting / read-write is refused without allowBroad", () => {
    const r = load("files:\n  mounts:\n    - {host: /, guest: /host, mode: rw}\n");
    expect(codes(r)).toContain("error:broad-mount");
  });

  test("a mount root that is itself a symlink resolves to its target", () => {
    mkdirSync(join(root, "data"));
    symlinkSync(join(root, "data"), join(project, "data-link"));
    const r = load("files:\n  outsideLinks: warn\n  mounts:\n    - {host: ./data-link, guest: /data, mode: ro}\n");
    expect(r.plan.mounts.find((m) => m.guestPath === "/data")!.hostPath).toBe(join(root, "data"));
  });

  test("a bare ~ (YAML null) gets a hint to quote it", () => {
    const d = load("files:\n  mounts:\n    - {host: ~, guest: /h, mode: ro}\n").diagnostics.find((x) => x.code === "wrong-type")!;
    expect(d.hint).toContain('quote it: "~"');
  });

  test("the scan is bounded and says so", () => {
    for (let i = 0; i < 30; i++) writeFileSync(join(project, `f${i}`), "");
    const bag = new DiagnosticBag();
    const policy = mergeLayers([builtinLayer()]);
    compileMounts(policy, { fs: nodePolicyFs, homeDir: home, baseDir: project, scanLimit: 10 }, bag);
    expect(bag.items.map((d) => d.code)).toEqual(["scan-limit"]);
    expect(bag.items[0]!.message).toContain("after 10 entries");
  });
});
