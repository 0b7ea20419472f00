/**
 * The on-disk store of sandboxes: one directory per sandbox under the state dir holding
 * sandbox.json (written atomically), the writable disk and the console log. Broken metadata is
 * reported and moved aside (quarantined), never deleted.
 *
 * Writers: the CLI/SDK while no VMM host process runs for a sandbox, the host process while it does.
 * Every write replaces the whole file atomically, so readers never see a torn record.
 */
import { mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { SandboxError, SandboxErrorCode } from "../errors/sandbox-error.js";
import { writeFileAtomic } from "./atomic-file.js";
import { type SandboxRecord, recordProblem } from "./sandbox-record.js";

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const RECORD_FILE = "sandbox.json";

export function checkSandboxName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new SandboxError(SandboxErrorCode.INVALID_NAME, `invalid sandbox name ${JSON.stringify(name)}`, {
      fix: "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
    });
  }
}

export interface ListedSandbox {
  name: string;
  record?: SandboxRecord;
  /** Set when the metadata was broken and has been quarantined. */
  broken?: string;
}

export class SandboxStore {
  constructor(readonly root: string) {}

  dir(name: string): string {
    return join(this.root, name);
  }

  file(name: string, leaf: string): string {
    return join(this.root, name, leaf);
  }

  /** Creates the sandbox directory and record; fails with NAME_TAKEN if it exists. */
  async create(record: SandboxRecord): Promise<void> {
    checkSandboxName(record.name);
    await mkdir(this.root, { recursive: true });
    try {
      await mkdir(this.dir(record.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new SandboxError(SandboxErrorCode.NAME_TAKEN, `a sandbox named "${record.name}" already exists`, {
          fix: `pick another name, or remove it first: moat rm ${record.name} (moat rm --force ${record.name} if moat ls says it is broken)`,
        });
      }
      throw err;
    }
    try {
      await this.write(record);
    } catch (err) {
      await rm(this.dir(record.name), { recursive: true, force: true });
      throw err;
    }
  }

  async write(record: SandboxRecord): Promise<void> {
    await writeFileAtomic(this.file(record.name, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Reads a record; NOT_FOUND if absent, BROKEN_STATE (after quarantining the file) if unreadable. */
  async read(name: string): Promise<SandboxRecord> {
    checkSandboxName(name);
    const path = this.file(name, RECORD_FILE);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      // Its directory without a record: an interrupted create, or a record quarantined earlier.
      if (await isDirectory(this.dir(name))) {
        throw new SandboxError(SandboxErrorCode.BROKEN_STATE, `the state of sandbox "${name}" is broken: ${NO_RECORD}`, {
          fix: `inspect ${this.dir(name)}; remove the sandbox with: moat rm --force ${name}`,
        });
      }
      throw new SandboxError(SandboxErrorCode.NOT_FOUND, `no sandbox named "${name}"`, { fix: "list sandboxes with: moat ls" });
    }
    let problem: string | undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
      problem = recordProblem(value);
    } catch (err) {
      problem = `not valid JSON (${(err as Error).message})`;
    }
    if (problem) {
      const quarantined = `${path}.broken-${Date.now()}`;
      await rename(path, quarantined);
      throw new SandboxError(SandboxErrorCode.BROKEN_STATE, `the state of sandbox "${name}" is broken: ${problem}; moved it to ${quarantined}`, {
        fix: `inspect that file; remove the sandbox with: moat rm --force ${name}`,
      });
    }
    return value as SandboxRecord;
  }

  async update(name: string, change: (r: SandboxRecord) => SandboxRecord | void): Promise<SandboxRecord> {
    const record = await this.read(name);
    const next = change(record) ?? record;
    await this.write(next);
    return next;
  }

  async list(): Promise<ListedSandbox[]> {
    let names: string[];
    try {
      names = (await readdir(this.root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const out: ListedSandbox[] = [];
    for (const name of names.sort()) {
      try {
        out.push({ name, record: await this.read(name) });
      } catch (err) {
        if (err instanceof SandboxError && err.code === SandboxErrorCode.BROKEN_STATE) out.push({ name, broken: err.message });
        else if (!(err instanceof SandboxError && err.code === SandboxErrorCode.NOT_FOUND)) throw err;
        // NOT_FOUND: removed while we listed.
      }
    }
    return out;
  }

  /** Removes a sandbox's state (record, disk, logs) and, when given, its runtime directory (sockets). */
  async remove(name: string, runtimeDir?: string): Promise<void> {
    checkSandboxName(name);
    await rm(this.dir(name), { recursive: true, force: true });
    if (runtimeDir !== undefined) await rm(runtimeDir, { recursive: true, force: true });
  }
}

const NO_RECORD = "its directory has no sandbox.json (an interrupted create, or a broken record moved aside as sandbox.json.broken-*)";

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
