/**
 * Runs one command inside the L1 VM and returns its exit status: finds the kernel, builds (or reuses)
 * the initramfs, writes the job, starts QEMU (under `setpriv --pdeathsig KILL`, so QEMU dies with this
 * process even if it is SIGKILLed), streams the console, enforces the timeout, and always kills QEMU
 * and removes the job files before it resolves.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConsoleReader } from "./console.js";
import { ensureInitramfs } from "./initramfs.js";
import { writeJob } from "./job.js";
import { findL1Kernel } from "./kernel.js";
import { l1QemuArgs, QEMU_BINARY } from "./qemu.js";
import { hostTscKhz } from "./tsc.js";

/** Exit status when the inner command outlived its timeout (as timeout(1) does). */
export const EXIT_TIMEOUT = 124;
/** Exit status when the harness itself failed (no kernel, QEMU died, no status reported). */
export const EXIT_HARNESS_ERROR = 125;

export interface NestedRunOptions {
  command: string[];
  /** Working directory inside the VM (the host path; the host root is the VM's root). */
  cwd?: string;
  /** Environment passed in (host-session variables are dropped). */
  env?: NodeJS.ProcessEnv;
  timeoutSeconds?: number;
  memoryMiB?: number;
  cpus?: number;
  /** tmpfs size of the writable layer (default "75%" of the VM's memory). */
  scratch?: string;
  verbose?: boolean;
  /** Receives the command's output (stdout and stderr merged) as it arrives. */
  onOutput?: (data: Buffer) => void;
  /** Receives the harness's own messages (timeouts, failures, timings). */
  onMessage?: (line: string) => void;
  /** Called with the QEMU process id once it started. */
  onStarted?: (qemuPid: number) => void;
}

export interface NestedRunResult {
  /** The inner command's status, EXIT_TIMEOUT, EXIT_HARNESS_ERROR, or 128+signal when cancelled. */
  exitCode: number;
  timedOut: boolean;
  /** Wall time from QEMU start to QEMU exit. */
  durationMs: number;
  consoleTail: string;
}

export interface NestedRun {
  result: Promise<NestedRunResult>;
  /** Ends the run now: QEMU is killed, the result resolves with exitCode 128+signal number. */
  cancel(signal?: NodeJS.Signals): void;
}

function haveSetpriv(): boolean {
  return spawnSync("setpriv", ["--help"], { stdio: "ignore" }).status === 0;
}

/** Starts a run. Throws synchronously (KernelNotFoundError, InitramfsBuildError) when a prerequisite is missing. */
export function startNested(options: NestedRunOptions): NestedRun {
  if (options.command.length === 0) throw new Error("no command given: usage: run [options] -- <command...>");
  const env = options.env ?? process.env;
  const message = options.onMessage ?? ((line: string) => process.stderr.write(`${line}\n`));
  const kernel = findL1Kernel(env);
  const initrd = ensureInitramfs(env);
  const job = writeJob(options.command, options.cwd ?? process.cwd(), env);
  const pidFile = join(job.dir, "qemu.pid");
  const tscKhz = hostTscKhz();
  if (tscKhz === undefined) message("nested-kvm: warning: the host's TSC frequency is unknown (no 'cpu MHz' in /proc/cpuinfo): KVM inside L1 will not run guests");
  const args = l1QemuArgs({
    kernel,
    initrd,
    memoryMiB: options.memoryMiB ?? 4096,
    cpus: options.cpus ?? 2,
    jobDir: job.dir,
    pidFile,
    scratch: options.scratch ?? "75%",
    verbose: options.verbose ?? false,
    tscKhz,
  });
  const [file, argv] = haveSetpriv() ? ["setpriv", ["--pdeathsig", "KILL", "--", QEMU_BINARY, ...args]] : [QEMU_BINARY, args];
  const started = Date.now();
  const qemu: ChildProcess = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
  const reader = new ConsoleReader(job.nonce, options.onOutput ?? ((data) => process.stdout.write(data)));
  let stderr = "";
  let timedOut = false;
  let cancelledBy: NodeJS.Signals | undefined;
  let spawnError: Error | undefined;

  qemu.stdout!.on("data", (chunk: Buffer) => reader.push(chunk));
  qemu.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  qemu.on("error", (error) => {
    spawnError = error;
  });
  if (qemu.pid !== undefined) options.onStarted?.(qemu.pid);

  const kill = () => {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill("SIGKILL");
  };
  const timeoutMs = (options.timeoutSeconds ?? 600) * 1000;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  // If this process exits for any reason while QEMU runs, take QEMU along.
  process.on("exit", kill);

  const result = new Promise<NestedRunResult>((resolve) => {
    qemu.on("close", (code, signal) => {
      clearTimeout(timer);
      process.off("exit", kill);
      reader.end();
      rmSync(job.dir, { recursive: true, force: true });
      const durationMs = Date.now() - started;
      const consoleTail = reader.lastLines(40);
      const done = (exitCode: number) => resolve({ exitCode, timedOut, durationMs, consoleTail });
      if (spawnError) {
        message(`nested-kvm: cannot start ${QEMU_BINARY}: ${spawnError.message} (install Debian's qemu-system-x86)`);
        return done(EXIT_HARNESS_ERROR);
      }
      if (cancelledBy) {
        message(`nested-kvm: cancelled by ${cancelledBy}; QEMU killed`);
        return done(128 + (cancelSignalNumbers[cancelledBy] ?? 15));
      }
      if (timedOut) {
        message(`nested-kvm: inner command timed out after ${timeoutMs / 1000}s; QEMU killed. Last console lines:\n${consoleTail}`);
        return done(EXIT_TIMEOUT);
      }
      if (reader.status === undefined) {
        message(
          `nested-kvm: the L1 VM ended (QEMU ${signal ? `signal ${signal}` : `status ${code}`}) without reporting the command's status.` +
            `${stderr.trim() ? `\nQEMU said: ${stderr.trim()}` : ""}\nLast console lines:\n${consoleTail}`,
        );
        return done(EXIT_HARNESS_ERROR);
      }
      if (options.verbose) message(`nested-kvm: boot-run-exit took ${(durationMs / 1000).toFixed(2)}s, status ${reader.status}`);
      done(reader.status);
    });
  });

  return {
    result,
    cancel(signal: NodeJS.Signals = "SIGTERM") {
      cancelledBy ??= signal;
      kill();
    },
  };
}

const cancelSignalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Runs a command in the L1 VM and waits for it. */
export function runNested(options: NestedRunOptions): Promise<NestedRunResult> {
  return startNested(options).result;
}

/** True when the pid is alive (used by tests to check that no QEMU is left). */
export function processAlive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
