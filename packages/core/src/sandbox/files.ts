/**
 * `sandbox.files`: whole-file reads and writes and directory listings in the guest, each over its
 * own short RPC session with the agent (the agent streams the bytes in chunks under flow control).
 */
import type { RpcClient } from "@moat/rpc";
import type { Readable } from "node:stream";

export class SandboxFiles {
  constructor(private readonly open: () => Promise<RpcClient>) {}

  async read(path: string): Promise<Buffer> {
    return this.with((c) => c.files.readFile(path));
  }

  async write(path: string, data: Buffer | string | Readable, options: { mode?: number } = {}): Promise<void> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    await this.with((c) => c.files.put(path, body, options));
  }

  async list(path: string) {
    return this.with((c) => c.files.list(path));
  }

  async stat(path: string) {
    return this.with((c) => c.files.stat(path));
  }

  async mkdir(path: string, options: { parents?: boolean; mode?: number } = {}) {
    return this.with((c) => c.files.mkdir(path, options));
  }

  private async with<T>(call: (client: RpcClient) => Promise<T>): Promise<T> {
    const client = await this.open();
    try {
      return await call(client);
    } finally {
      await client.close();
    }
  }
}
