/**
 * `sandbox.files`: whole-file reads and writes and directory listings in the guest, each over its
 * own short RPC session with the agent (the agent streams the bytes in chunks under flow control).
 */
import type { RpcClient } from "@moat/rpc";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Turns a failure of a call into the error to report, given what was being done ("reading /x"). */
export type ExplainFailure = (err: unknown, during: string) => Promise<unknown>;

export class SandboxFiles {
  constructor(
    private readonly open: () => Promise<RpcClient>,
    private readonly explain: ExplainFailure = async (err) => err,
  ) {}

  async read(path: string): Promise<Buffer> {
    return this.with(`reading ${path}`, (c) => c.files.readFile(path));
  }

  /** Streams a guest file into `sink` without holding it in memory (sink is ended or destroyed). */
  async readTo(path: string, sink: Writable): Promise<void> {
    await this.with(`reading ${path}`, (c) => pipeline(c.files.get(path), sink));
  }

  async write(path: string, data: Buffer | string | Readable, options: { mode?: number } = {}): Promise<void> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    await this.with(`writing ${path}`, (c) => c.files.put(path, body, options));
  }

  async list(path: string) {
    return this.with(`listing ${path}`, (c) => c.files.list(path));
  }

  async stat(path: string) {
    return this.with(`looking up ${path}`, (c) => c.files.stat(path));
  }

  async mkdir(path: string, options: { parents?: boolean; mode?: number } = {}) {
    return this.with(`making ${path}`, (c) => c.files.mkdir(path, options));
  }

  private async with<T>(during: string, call: (client: RpcClient) => Promise<T>): Promise<T> {
    const client = await this.open();
    try {
      return await call(client);
    } catch (err) {
      throw await this.explain(err, during);
    } finally {
      await client.close();
    }
  }
}
