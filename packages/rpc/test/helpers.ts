/** Test helpers: real Unix socket pairs, and a client connected to the Node reference agent. */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RpcClient, type ConnectOptions } from "../src/client/client.js";
import type { Connection } from "../src/mux/connection.js";
import { createNodeAgent } from "../src/server/node-agent.js";
import { serve, type CallHandlers, type ServeOptions } from "../src/server/serve.js";

/** Polls cond until it holds (or throws after timeoutMs): for effects on the other end of a socket. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SocketPair {
  a: net.Socket;
  b: net.Socket;
  close(): void;
}

/** Two connected ends of a real Unix domain socket. */
export async function socketPair(): Promise<SocketPair> {
  const dir = mkdtempSync(join(tmpdir(), "moat-rpc-"));
  const path = join(dir, "s.sock");
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((res) => server.once("connection", res));
  await new Promise<void>((res) => server.listen(path, res));
  const a = net.connect(path);
  await new Promise<void>((res, rej) => (a.once("connect", res), a.once("error", rej)));
  const b = await accepted;
  server.close();
  return {
    a,
    b,
    close() {
      a.destroy();
      b.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Pair {
  client: RpcClient;
  server: Connection;
  sockets: SocketPair;
  close(): Promise<void>;
}

/** An RpcClient talking to `handlers` (default: the Node agent) over a real Unix socket. */
export async function connectPair(
  options: { handlers?: CallHandlers; root?: string; client?: ConnectOptions; server?: ServeOptions } = {},
): Promise<Pair> {
  const sockets = await socketPair();
  const handlers = options.handlers ?? createNodeAgent({ root: options.root ?? "/" });
  const [server, client] = await Promise.all([
    serve(sockets.b, handlers, options.server),
    RpcClient.connect(sockets.a, options.client),
  ]);
  return {
    client,
    server,
    sockets,
    async close() {
      await client.close();
      sockets.close();
    },
  };
}
