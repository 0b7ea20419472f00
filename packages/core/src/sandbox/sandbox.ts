/**
 * The Sandbox API: create, start, exec, files, stop, remove, list. A sandbox is a directory in the
 * state store plus, while it runs, a VMM host process (or, in-process mode, a machine inside the
 * caller) serving a control socket through which every exec and file call reaches the guest agent.
 */
import { type Diagnostic, type PolicyFlags, RESOURCE_LIMITS, formatDiagnostics, loadEffectivePolicy } from "@moat/policy";
import { type ExecOptions, type ExecProcess, RpcClient, RpcError } from "@moat/rpc";
import { randomBytes } from "node:crypto";
import { totalmem } from "node:os";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import type { Duplex } from "node:stream";
import { resolveGuestArtifacts } from "../artifacts/guest-artifacts.js";
import { createWritableDisk } from "../artifacts/writable-disk.js";
import { chooseBackend } from "../backends/index.js";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";
import { type HostStatus, controlCall, controlConnect } from "../host/control-protocol.js";
import { AGENT_PORT, defaultReadyTimeoutMs, readyTimeoutOverride } from "../host/launch-plan.js";
import { readConsoleSince } from "../host/guest-panic.js";
import { MachineRunner } from "../host/machine-runner.js";
import { type MoatPaths, moatPaths } from "../state/paths.js";
import type { SandboxRecord, SandboxStatus } from "../state/sandbox-record.js";
import { SandboxStore, checkSandboxName } from "../state/sandbox-store.js";
import { markEnded, markRunning } from "../state/transitions.js";
import { type WorkspaceRules, workspaceRules } from "../workspace/workspace-rules.js";
import { SandboxFiles } from "./files.js";
import { processAlive, spawnHostProcess } from "./host-process.js";
import { CONSOLE_LOG, WRITABLE_DISK, buildLaunchPlan } from "./launch.js";

export interface SandboxContext {
  paths?: MoatPaths;
  env?: NodeJS.ProcessEnv;
  /** One-line notices for the user (e.g. the fallback-backend warning). */
  onWarning?: (message: string) => void;
}

export interface CreateOptions extends SandboxContext {
  name?: string;
  image?: string;
  cpus?: number;
  memoryMiB?: number;
  backend?: string;
  workspace?: string;
  env?: NodeJS.ProcessEnv;
  guestEnv?: Record<string, string>;
  /** Removed when it stops (moat run --rm). */
  ephemeral?: boolean;
  /** Boot right away (default true). */
  start?: boolean;
  /** Run the machine inside this process instead of a VMM host process (tests, embedding). */
  inProcess?: boolean;
  /** Policy settings from the command line (the top layer over project, user and built-in policy). */
  policyFlags?: PolicyFlags;
}

const DEFAULTS = { image: "base", cpus: 2, memoryMiB: 1024 };

/** What a sandbox may ask for: the policy's RESOURCE_LIMITS, so a policy that checks is one that starts. */
export const SANDBOX_LIMITS = {
  minCpus: RESOURCE_LIMITS.cpus.min,
  maxCpus: RESOURCE_LIMITS.cpus.max,
  minMemoryMiB: RESOURCE_LIMITS.memoryMiB.min,
  maxMemoryMiB: RESOURCE_LIMITS.memoryMiB.max,
} as const;
/** How long a new connection waits for the agent's HELLO (a running agent answers in milliseconds). */
const AGENT_HANDSHAKE_TIMEOUT_MS = 60_000;

export class Sandbox {
  private runner: MachineRunner | undefined;
  /** In-process: settles once the runner's end is written to the record. */
  private endRecorded: Promise<void> = Promise.resolve();
  private rules: WorkspaceRules | undefined;
  readonly files: SandboxFiles;

  private constructor(
    private rec: SandboxRecord,
    private readonly store: SandboxStore,
    private readonly ctx: Required<Pick<SandboxContext, "paths" | "env">> & SandboxContext,
  ) {
    this.files = new SandboxFiles(
      () => this.agent(),
      (err, during) => this.endedWhile(err, during),
    );
  }

  static async create(options: CreateOptions = {}): Promise<Sandbox> {
    const ctx = context(options);
    const store = new SandboxStore(ctx.paths.sandboxesDir);
    const name = options.name ?? `sb-${randomBytes(4).toString("hex")}`;
    checkSandboxName(name);
    const plan = checkPolicy(options, ctx);
    // What of the workspace may be shared is decided here, before anything is created or booted.
    const rules = options.workspace !== undefined ? await workspaceRules(plan?.mounts ?? [], options.workspace) : undefined;
    const cpus = options.cpus ?? plan?.resources.cpus ?? DEFAULTS.cpus;
    const memoryMiB = options.memoryMiB ?? plan?.resources.memoryMiB ?? DEFAULTS.memoryMiB;
    const { minCpus, maxCpus, minMemoryMiB, maxMemoryMiB } = SANDBOX_LIMITS;
    if (!Number.isInteger(cpus) || cpus < minCpus || cpus > maxCpus) {
      throw new SandboxError(SandboxErrorCode.INVALID_OPTION, `cpus must be a whole number from ${minCpus} to ${maxCpus} (got ${cpus})`, {
        fix: `ask for ${minCpus} to ${maxCpus} CPUs (with --cpus, or resources.cpus in the policy)`,
      });
    }
    if (!Number.isInteger(memoryMiB) || memoryMiB < minMemoryMiB || memoryMiB > maxMemoryMiB) {
      throw new SandboxError(SandboxErrorCode.INVALID_OPTION, `memory must be a whole number of MiB from ${minMemoryMiB} to ${maxMemoryMiB} (got ${memoryMiB})`, {
        fix: `ask for ${minMemoryMiB}M to ${maxMemoryMiB / 1024}G (with --memory, or resources.memory in the policy)`,
      });
    }
    const hostMiB = Math.floor(totalmem() / (1 << 20));
    if (memoryMiB > hostMiB) {
      throw new SandboxError(SandboxErrorCode.INVALID_OPTION, `memory ${memoryMiB} MiB is more than this host has (${hostMiB} MiB)`, {
        fix: "ask for less (with --memory, or resources.memory in the policy)",
      });
    }
    const record: SandboxRecord = {
      schema: 1,
      name,
      id: randomBytes(6).toString("hex"),
      createdAt: new Date().toISOString(),
      ...(options.backend ? { backend: options.backend } : {}),
      cpus,
      memoryMiB,
      image: options.image ?? DEFAULTS.image,
      env: options.guestEnv ?? {},
      ...(options.workspace ? { workspace: resolve(options.workspace) } : {}),
      status: "created",
      ...(options.ephemeral ? { ephemeral: true, ownerPid: process.pid } : {}),
    };
    await store.create(record);
    try {
      await createWritableDisk(store.file(name, WRITABLE_DISK), plan?.resources.diskMiB !== undefined ? plan.resources.diskMiB * 1024 * 1024 : undefined);
    } catch (err) {
      await store.remove(name);
      throw err;
    }
    const sandbox = new Sandbox(record, store, ctx);
    sandbox.rules = rules;
    if (options.start !== false) {
      try {
        await sandbox.start({ inProcess: options.inProcess ?? false });
      } catch (err) {
        if (options.ephemeral) await sandbox.remove({ force: true }).catch(() => undefined);
        throw err;
      }
    }
    return sandbox;
  }

  static async get(name: string, ctx: SandboxContext = {}): Promise<Sandbox> {
    const c = context(ctx);
    const store = new SandboxStore(c.paths.sandboxesDir);
    const sandbox = new Sandbox(await store.read(name), store, c);
    if (await sandbox.collectIfAbandoned()) {
      throw new SandboxError(SandboxErrorCode.NOT_FOUND, `no sandbox named "${name}"`, { fix: "list sandboxes with: moat ls" });
    }
    await sandbox.reconcile();
    return sandbox;
  }

  /** Every sandbox with its current status; broken records are listed, not thrown. */
  static async list(ctx: SandboxContext = {}): Promise<Array<{ name: string; record?: SandboxRecord; broken?: string }>> {
    const c = context(ctx);
    const store = new SandboxStore(c.paths.sandboxesDir);
    const listed = [];
    for (const entry of await store.list()) {
      if (entry.record) {
        const sandbox = new Sandbox(entry.record, store, c);
        if (await sandbox.collectIfAbandoned()) continue;
        entry.record = await sandbox.reconcile();
      }
      listed.push(entry);
    }
    return listed;
  }

  /** Removes a sandbox whose metadata is broken (quarantined files and disks go too). */
  static async removeBroken(name: string, ctx: SandboxContext = {}): Promise<void> {
    const c = context(ctx);
    await new SandboxStore(c.paths.sandboxesDir).remove(name);
  }

  get name(): string {
    return this.rec.name;
  }

  get record(): SandboxRecord {
    return this.rec;
  }

  get status(): SandboxStatus {
    return this.rec.status;
  }

  /**
   * The file policy for the workspace given to `create` (what the workspace copy may send in and
   * bring back). Undefined without a workspace, and on a sandbox from `get`: the compiled policy is
   * not stored, and the policy files may have changed since.
   */
  get workspaceRules(): WorkspaceRules | undefined {
    return this.rules;
  }

  get consoleLogPath(): string {
    return this.store.file(this.name, CONSOLE_LOG);
  }

  private get controlPath(): string {
    return join(this.ctx.paths.runtimeDir, this.rec.id, "control.sock");
  }

  async start(options: { inProcess?: boolean } = {}): Promise<void> {
    await this.reconcile();
    if (this.rec.status === "running" || this.rec.status === "starting") {
      throw new SandboxError(SandboxErrorCode.ALREADY_RUNNING, `sandbox "${this.name}" is already ${this.rec.status}`, {
        fix: `run commands in it with: moat exec ${this.name} -- CMD, or restart it: moat stop ${this.name} && moat start ${this.name}`,
      });
    }
    const choice = await chooseBackend({ explicit: this.rec.backend, env: this.ctx.env });
    if (choice.warning) this.ctx.onWarning?.(choice.warning);
    const artifacts = await resolveGuestArtifacts({ image: this.rec.image, env: this.ctx.env });
    const runtimeDir = join(this.ctx.paths.runtimeDir, this.rec.id);
    await rm(runtimeDir, { recursive: true, force: true });
    await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
    const plan = buildLaunchPlan({
      record: this.rec,
      artifacts,
      backend: choice.name,
      sandboxDir: this.store.dir(this.name),
      runtimeDir,
      readyTimeoutMs: defaultReadyTimeoutMs(choice.probe.features.hardwareAccelerated, this.ctx.env),
    });
    await writeFile(this.store.file(this.name, "launch.json"), `${JSON.stringify(plan, null, 2)}\n`);
    this.rec = await this.store.update(this.name, (r) => {
      r.status = "starting";
      delete r.lastExit;
    });

    if (options.inProcess) {
      try {
        this.runner = await MachineRunner.start(plan, choice.backend);
      } catch (err) {
        this.rec = await this.store.update(this.name, (r) => markEnded(r, { reason: "crashed", detail: (err as Error).message }));
        throw err;
      }
      this.rec = await this.store.update(this.name, (r) =>
        markRunning(r, { pid: process.pid, backend: choice.name, startedAt: new Date().toISOString() }),
      );
      // stop() and kill() wait for this record, so a remove() after them cannot race it.
      this.endRecorded = this.runner.wait().then(async (exit) => {
        await this.store.update(this.name, (r) => markEnded(r, exit));
      });
      return;
    }
    await spawnHostProcess(this.store.dir(this.name), this.controlPath, this.store.file(this.name, "host.log"), (pid) =>
      this.store.update(this.name, (r) => {
        r.hostPid = pid;
      }),
    );
    this.rec = await this.store.read(this.name);
  }

  /**
   * Opens an RPC session with the guest agent (the caller closes it). The agent of a running
   * sandbox answers at once, but a software-emulated guest on a loaded host can stall for seconds,
   * so the handshake may take up to MOAT_READY_TIMEOUT_MS (default 60 s here).
   */
  async agent(): Promise<RpcClient> {
    const unreachable = (err: unknown) =>
      new SandboxError(SandboxErrorCode.AGENT_UNREACHABLE, `the agent of sandbox "${this.name}" did not answer: ${(err as Error).message}`, {
        fix: `see the guest console with: moat logs ${this.name}; restart the sandbox with: moat stop ${this.name} && moat start ${this.name}`,
        cause: err,
      });
    // Not running is its own error; the VMM host process failing to reach the agent is not.
    const port = await this.openPort(AGENT_PORT).catch((err: unknown) => Promise.reject(err instanceof SandboxError ? err : unreachable(err)));
    const timeoutMs = readyTimeoutOverride(this.ctx.env) ?? AGENT_HANDSHAKE_TIMEOUT_MS;
    try {
      return await RpcClient.connect(port, { timeoutMs });
    } catch (err) {
      throw unreachable(err);
    }
  }

  /**
   * Runs a command in the guest; the handle's `exit` resolves when it ends. Without `cwd` it runs in
   * the workspace's path when the guest has that directory (a workspace under /tmp is gone after a
   * restart: the guest's /tmp is a tmpfs), else in the agent's default directory.
   */
  async exec(argv: string[], options: Omit<ExecOptions, "argv"> = {}): Promise<ExecProcess> {
    if (argv.length === 0) throw new SandboxError(SandboxErrorCode.INVALID_OPTION, "exec needs a command (argv is empty)");
    const client = await this.agent();
    const env = { ...this.rec.env, ...(options.env ?? {}) };
    const cwd = options.cwd ?? (await this.workspaceInGuest(client));
    const handle = client.exec({ ...options, argv, env, ...(cwd ? { cwd } : {}) });
    void handle.exit.then(
      () => client.close(),
      () => client.close(),
    );
    return { ...handle, exit: handle.exit.catch(async (err: unknown) => Promise.reject(await this.endedWhile(err, "the command ran"))) };
  }

  /** The workspace's path if the guest has it as a directory. */
  private async workspaceInGuest(client: RpcClient): Promise<string | undefined> {
    const workspace = this.rec.workspace;
    if (workspace === undefined) return undefined;
    const found = await client.files.stat(workspace).catch(() => undefined);
    return found?.type === "directory" ? workspace : undefined;
  }

  /**
   * A command or file call that lost its connection because the sandbox ended under it (the guest panicked or
   * powered off, the VMM died) says so, with how it ended; any other failure stays as it was.
   */
  private async endedWhile(err: unknown, during: string): Promise<unknown> {
    if (this.runner || !(err instanceof RpcError) || err.code !== "CONNECTION_CLOSED") return err;
    await waitUntil(() => !processAlive(this.rec.hostPid), ENDED_RECORD_WAIT_MS);
    const r = await this.reconcile().catch(() => undefined);
    return r && r.status !== "running" ? notRunning(r, { during, cause: err }) : err;
  }

  /**
   * Powers the guest off through its agent (forced after timeoutMs). A sandbox that is already down
   * (created, stopped, crashed) is left as it is, like `docker stop`; one that is starting or
   * stopping is an error. Resolves true when it stopped the sandbox, false when it was already down.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<boolean> {
    await this.reconcile();
    if (ALREADY_DOWN.has(this.rec.status)) return false;
    if (this.rec.status !== "running") throw notRunning(this.rec);
    const timeoutMs = options.timeoutMs ?? 15_000;
    if (this.runner) {
      await this.runner.stop(timeoutMs);
      await this.endRecorded;
      this.runner = undefined;
    } else {
      await controlCall(this.controlPath, `STOP ${timeoutMs}`);
      await waitUntil(() => !processAlive(this.rec.hostPid), timeoutMs + 5_000);
    }
    this.rec = await this.store.read(this.name);
    if (this.rec.status === "running" || this.rec.status === "stopping") {
      this.rec = await this.store.update(this.name, (r) => {
        r.status = "stopped";
        delete r.hostPid;
      });
    }
    return true;
  }

  /**
   * Removes the sandbox with its disk and logs. A running one is stopped first: gracefully (the
   * guest powers off, as stop() does), or killed at once with `force`.
   */
  async remove(options: { force?: boolean } = {}): Promise<void> {
    await this.reconcile();
    if (this.rec.status === "running" && !options.force) {
      await this.stop().catch(() => this.kill());
    } else if (this.rec.status === "running" || this.rec.status === "starting") {
      await this.kill();
    }
    await this.store.remove(this.name, join(this.ctx.paths.runtimeDir, this.rec.id));
  }

  /** Ends the VM at once. */
  async kill(): Promise<void> {
    if (this.runner) {
      await this.runner.kill();
      await this.endRecorded;
      this.runner = undefined;
    } else if (processAlive(this.rec.hostPid)) {
      try {
        await controlCall(this.controlPath, "KILL");
      } catch {
        process.kill(this.rec.hostPid!, "SIGKILL");
      }
      await waitUntil(() => !processAlive(this.rec.hostPid), 10_000);
    }
    this.rec = await this.store.read(this.name).catch(() => this.rec);
  }

  async hostStatus(): Promise<HostStatus> {
    return controlCall<HostStatus>(this.controlPath, "STATUS");
  }

  private async openPort(port: number): Promise<Duplex> {
    await this.reconcile();
    if (this.rec.status !== "running") throw notRunning(this.rec);
    if (this.runner) return this.runner.connect(port);
    return controlConnect(this.controlPath, port);
  }

  /**
   * Removes a disposable sandbox that nobody will remove: its creator (ownerPid) died, and no VMM
   * host process is serving it (one that is would remove it itself once it notices). That is a
   * `moat run` killed before its host process started, or after the machine ended. True if removed.
   */
  private async collectIfAbandoned(): Promise<boolean> {
    const r = this.rec;
    if (this.runner || r.ownerPid === undefined || processAlive(r.ownerPid) || processAlive(r.hostPid)) return false;
    await this.remove({ force: true });
    return true;
  }

  /**
   * Brings the record in line with reality: a "running" sandbox whose host process is gone crashed
   * (the VMM was killed, or the machine died without the host process recording it).
   */
  private async reconcile(): Promise<SandboxRecord> {
    if (this.runner) return this.rec;
    this.rec = await this.store.read(this.name);
    const live = this.rec.status === "running" || this.rec.status === "starting" || this.rec.status === "stopping";
    // "starting" without a pid yet: its host process is being spawned (or its starter died first; rm removes it).
    const spawning = this.rec.status === "starting" && this.rec.hostPid === undefined;
    if (live && !spawning && !processAlive(this.rec.hostPid)) {
      const consoleTail = await tail(this.consoleLogPath, 2000);
      this.rec = await this.store.update(this.name, (r) =>
        markEnded(r, { reason: "crashed", detail: `the VMM host process (pid ${r.hostPid ?? "?"}) is gone${consoleTail ? `\nconsole tail:\n${consoleTail}` : ""}` }),
      );
    }
    return this.rec;
  }
}

/**
 * NOT_RUNNING for a sandbox in any other state (or one that ended `during` a call); a crash names
 * the first line of why.
 */
function notRunning(r: SandboxRecord, options: { during?: string; cause?: unknown } = {}): SandboxError {
  const crashed = r.status === "crashed";
  const why = crashed && r.lastExit?.detail ? `: ${r.lastExit.detail.split("\n")[0]}` : "";
  const state = options.during ? `ended while ${options.during}` : "is not running";
  const start = `start it${crashed ? " again" : ""} with: moat start ${r.name}`;
  const fix = crashed ? `see its console with: moat logs ${r.name}; ${start}` : start;
  return new SandboxError(SandboxErrorCode.NOT_RUNNING, `sandbox "${r.name}" ${state} (${r.status}${why})`, {
    fix,
    ...(options.cause ? { cause: options.cause } : {}),
  });
}

/**
 * Compiles the effective policy (built-in < user < project < flags) before anything boots and
 * refuses on any error, naming each at its file, line and column. Warnings go to onWarning.
 */
function checkPolicy(options: CreateOptions, ctx: SandboxContext) {
  // Without a workspace nothing of the host is shared, so the mount table's host checks are moot.
  const result = loadEffectivePolicy({
    cwd: options.workspace ?? process.cwd(),
    flags: options.policyFlags ?? {},
    env: ctx.env ?? process.env,
    hostChecks: options.workspace !== undefined,
  });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  // Hard links matter for live sharing (virtio-fs); the interim copy-in does not share them.
  const warnings = result.diagnostics.filter((d) => d.severity !== "error" && d.code !== "hardlink");
  if (warnings.length > 0) ctx.onWarning?.(formatDiagnostics(warnings).trimEnd());
  if (errors.length > 0) {
    throw new SandboxError(SandboxErrorCode.POLICY_VIOLATION, `the sandbox policy does not hold, nothing was started:\n${formatDiagnostics(errors)}`, {
      fix: policyFix(errors),
    });
  }
  return result.plan;
}

/** The fix for refused policy problems: each names its source (a file, a flag, or the built-in defaults) and a hint. */
function policyFix(errors: Diagnostic[]): string {
  const files = [...new Set(errors.map((d) => d.file).filter((f): f is string => f !== undefined && isAbsolute(f)))];
  if (files.length > 0) return `correct ${files.join(" and ")} as the hint above says (moat policy check ${files[0]} explains each problem)`;
  return "follow the hint above (each problem names the flag or built-in default it comes from)";
}

function context(ctx: SandboxContext): Required<Pick<SandboxContext, "paths" | "env">> & SandboxContext {
  const env = ctx.env ?? process.env;
  return { ...ctx, env, paths: ctx.paths ?? moatPaths(env) };
}

/** States in which there is no machine to stop. */
const ALREADY_DOWN = new Set<SandboxStatus>(["created", "stopped", "crashed"]);

/** How long a lost call waits for the VMM host process to record how the sandbox ended. */
const ENDED_RECORD_WAIT_MS = 5_000;

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function tail(path: string, bytes: number): Promise<string> {
  const text = (await readConsoleSince(path, 0).catch(() => undefined)) ?? "";
  return text.slice(-bytes).trim();
}
