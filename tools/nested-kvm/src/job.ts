/**
 * The job the L1 /init runs: a POSIX sh script (cwd, environment, command, every value single-quoted)
 * and a random nonce that marks the exit-status line, written to a host temp dir that the VM reads
 * through the read-only 9p share (its path goes on the kernel command line as moat_job=).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Variables that describe the host session, not the command, and are not passed into the VM. */
const HOST_ONLY_VARIABLES = new Set(["PWD", "OLDPWD", "SHLVL", "_", "TERM_SESSION_ID", "SSH_AUTH_SOCK", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"]);

export interface JobFiles {
  dir: string;
  nonce: string;
}

/** Quotes one value for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The variables passed into the VM: all of `env` but the host-session ones, NUL-free. */
export function passedEnvironment(env: NodeJS.ProcessEnv): [string, string][] {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .filter(([name, value]) => !HOST_ONLY_VARIABLES.has(name) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !value.includes("\0"));
}

/** The job script's text. */
export function jobScript(command: string[], cwd: string, env: [string, string][]): string {
  const assignments = env.map(([name, value]) => shellQuote(`${name}=${value}`)).join(" \\\n  ");
  return [
    "# Written by tools/nested-kvm for one run; executed by the L1 /init inside the chroot.",
    `cd ${shellQuote(cwd)} || { echo "moat-nested: cannot enter ${cwd.replaceAll('"', "")} inside the VM"; exit 125; }`,
    `exec /usr/bin/env -i \\\n  ${assignments} \\\n  /bin/sh -c 'exec "$@"' moat-nested ${command.map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}

/** Writes job.sh and nonce into a fresh temp dir (the caller removes it). */
export function writeJob(command: string[], cwd: string, env: NodeJS.ProcessEnv): JobFiles {
  const dir = mkdtempSync(join(tmpdir(), "moat-nested-"));
  if (/\s/.test(dir)) throw new Error(`temp dir ${dir} contains whitespace and cannot go on a kernel command line: set TMPDIR to a path without spaces`);
  const nonce = randomBytes(8).toString("hex");
  // MOAT_NESTED_L1=1 tells the command (tests, benchmarks) that it runs inside the L1 VM.
  writeFileSync(join(dir, "job.sh"), jobScript(command, cwd, [...passedEnvironment(env), ["MOAT_NESTED_L1", "1"]]));
  writeFileSync(join(dir, "nonce"), nonce);
  return { dir, nonce };
}
