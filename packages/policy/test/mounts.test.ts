/**
 * Mount-table checks on real temporary directories: guest paths (the same path as on the host when
 * `guest` is omitted, an explicit one otherwise, never over the guest's /proc and friends), missing
 * paths, files, symlinks leaving the root (refused, or warned with outsideLinks: warn), links that
 * stay inside, hard links (a note), protected host areas, mounts inside another mount's denied area,
 * broad mounts and --allow-broad.
 */
import { linkSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { builtinLayer, compileMounts, DiagnosticBag, formatDiagnostics, loadEffectivePolicy, mergeLayers, nodePolicyFs, type PolicyFlags } from "@moat/policy";

let root: string;
let home: string;
let project: string;

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "moat-mounts-")));
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
  test("the default mount is the project root, read-write at the same path in the guest", () => {
    const r = load("{}");
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.plan.mounts).toHaveLength(1);
    const m = r.plan.mounts[0]!;
    expect(m).toMatchObject({ hostPath: project, guestPath: project, mode: "rw" });
    expect(m.isDenied(".env")).toBe(true);
    expect(m.isDenied("sub/dir/.env")).toBe(true);
    expect(m.isDenied("README.md")).toBe(false);
    expect(m.isReadonly(".git/hooks/pre-commit")).toBe(true);
    expect(m.isReadonly(".moat/policy.yaml")).toBe(true);
    expect(m.isReadonly("src/index.ts")).toBe(false);
  });

  test("an explicit guest path still wins", () => {
    const r = load("files:\n  mounts:\n    - {host: ., guest: /mnt/proj, mode: ro}\n");
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    // It replaces the built-in mount of the same folder.
    expect(r.plan.mounts.map((m) => [m.hostPath, m.guestPath, m.mode])).toEqual([[project, "/mnt/proj", "ro"]]);
  });

  test("a mount without guest in a user file appears at its host path", () => {
    mkdirSync(join(home, "data"));
    mkdirSync(join(root, "xdg", "moat"), { recursive: true });
    writeFileSync(join(root, "xdg", "moat", "policy.yaml"), "files:\n  mounts:\n    - {host: ~/data, mode: ro}\n    - {host: ../shared/, mode: ro}\n");
    mkdirSync(join(home, "shared"));
    const r = load("{}");
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.plan.mounts.map((m) => [m.guestPath, m.mode])).toEqual([[project, "rw"], [join(home, "data"), "ro"], [join(home, "shared"), "ro"]]);
    expect(r.policy.files.mounts[1]!.guest).toBeUndefined();
  });

  test("the same path is the host path as given, not its symlink target", () => {
    mkdirSync(join(root, "data"));
    symlinkSync(join(root, "data"), join(project, "data-link"));
    const r = load("files:\n  mounts:\n    - {host: ./data-link, mode: ro}\n");
    expect(r.plan.mounts.find((m) => m.mode === "ro")).toMatchObject({ hostPath: join(root, "data"), guestPath: join(project, "data-link") });
  });

  test("a same-path mount under the guest's /proc, /sys, /dev or /run (or at /) is refused, naming the fix", () => {
    for (const host of ["/proc/self", "/run/x", "/"]) {
      const r = load(`files:\n  mounts:\n    - {host: ${host}, mode: ro}\n`);
      const d = r.diagnostics.find((x) => x.code === "invalid-guest-path")!;
      expect(d, host).toBeDefined();
      expect(d.severity).toBe("error");
      expect(d.message).toContain(`mount host path ${host} has no guest path, so it would appear at the same path in the guest and hide part of the guest system`);
      expect(d.hint).toMatch(/guest: \/mnt\//);
      expect([d.line, d.column]).toEqual([3, 7]);
      // Refused for the guest's sake before the host checks (missing path, protected area, broad mount).
      expect(r.diagnostics.filter((x) => x.severity === "error").map((x) => x.code)).toEqual(["invalid-guest-path"]);
    }
  });

  test("a --mount flag onto the guest's /proc is refused too", () => {
    mkdirSync(join(project, "data"));
    expect(codes(load("{}", { mount: ["./data:/proc/data:ro"] }))).toContain("error:invalid-guest-path");
  });

  test("mounts resolving to the same guest path or folder: the later one replaces the earlier one", () => {
    mkdirSync(join(project, "sub"));
    const r = load(`files:\n  mounts:\n    - {host: ${project}, mode: ro}\n    - {host: ./sub, guest: /mnt/a}\n    - {host: ./sub/, guest: /mnt/b}\n`);
    expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true);
    expect(r.plan.mounts.map((m) => [m.hostPath, m.guestPath, m.mode, m.origin.kind])).toEqual([
      [project, project, "ro", "project"],
      [join(project, "sub"), "/mnt/b", "ro", "project"],
    ]);
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

  test("files with other hard links in a rw mount are one short note saying the copy back replaces files", () => {
    writeFileSync(join(root, "outside.txt"), "shared");
    linkSync(join(root, "outside.txt"), join(project, "linked.txt"));
    const r = load("{}");
    expect(r.ok).toBe(true);
    const d = r.diagnostics.find((x) => x.code === "hardlink")!;
    expect(d.severity).toBe("note");
    expect(d.message).toBe(`1 file in the rw mount at ${project} has other hard links (linked.txt)`);
    expect(d.hint).toMatch(/copy back replaces a changed file instead of writing through it/);
    expect(d.hint).toMatch(/to silence this/);
    expect(d.hint).not.toContain("virtio-fs");
    expect(formatDiagnostics(r.diagnostics)).toMatch(/note\[hardlink\].*\n.*\n0 errors, 0 warnings, 1 note$/);
  });

  test("many hard-linked files (a pnpm store) are counted, with three examples, in one line", () => {
    writeFileSync(join(root, "outside.txt"), "shared");
    for (let i = 0; i < 5; i++) linkSync(join(root, "outside.txt"), join(project, `l${i}.txt`));
    const notes = load("{}").diagnostics.filter((x) => x.code === "hardlink");
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toMatch(/^5 files in the rw mount at .* have other hard links \(l\d\.txt, l\d\.txt, l\d\.txt, …\)$/);
  });

  test("hard links in a ro mount are not reported (nothing is copied back)", () => {
    writeFileSync(join(root, "outside.txt"), "shared");
    linkSync(join(root, "outside.txt"), join(project, "linked.txt"));
    expect(codes(load("files:\n  mounts:\n    - {host: ., mode: ro}\n"))).not.toContain("note:hardlink");
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
    expect(d.message).toContain(`inside a denied area of the mount at ${project} (${project})`);
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
