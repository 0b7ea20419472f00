/**
 * RpcClient: the host's handle on one guest agent connection. `RpcClient.connect(duplex)` does the
 * HELLO exchange and version check; then exec, files, health and shutdown, each with an optional
 * AbortSignal and deadline.
 */
import type { Duplex } from "node:stream";
import { RpcError } from "../errors.js";
import { Connection, type ConnectionStats } from "../mux/connection.js";
import type { PeerInfo } from "../mux/hello.js";
import { pb } from "../proto.js";
import { startExec, type ExecExit, type ExecOptions, type ExecProcess } from "./exec.js";
import { FilesApi, type CallOptions } from "./files.js";

export interface ConnectOptions {
  /** Handshake timeout (default 10000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Per-stream credit this side grants (default 262144). */
  initialWindow?: number;
  /** Largest frame payload this side accepts (default 131072). */
  maxFramePayload?: number;
  softwareVersion?: string;
  /** Bytes that may queue for an agent that stops reading before the connection is cut (default 32 MiB). */
  maxWriteBuffer?: number;
  /** For tests of version negotiation. */
  minProtocolVersion?: number;
  maxProtocolVersion?: number;
}

export interface Health {
  uptimeMs: number;
  memTotalBytes: number;
  memAvailableBytes: number;
  loadAverage: number;
  processes: number;
  agentVersion: string;
}

export interface RunResult extends ExecExit {
  stdout: Buffer;
  stderr: Buffer;
}

export class RpcClient {
  readonly files: FilesApi;

  private constructor(readonly connection: Connection) {
    this.files = new FilesApi(connection);
  }

  static async connect(duplex: Duplex, options: ConnectOptions = {}): Promise<RpcClient> {
    const conn = await Connection.establish(duplex, {
      role: "host",
      handshakeTimeoutMs: options.timeoutMs,
      signal: options.signal,
      initialWindow: options.initialWindow,
      maxFramePayload: options.maxFramePayload,
      maxWriteBuffer: options.maxWriteBuffer,
      softwareVersion: options.softwareVersion ?? "@moat/rpc",
      minProtocolVersion: options.minProtocolVersion,
      maxProtocolVersion: options.maxProtocolVersion,
    });
    return new RpcClient(conn);
  }

  /** Version, software and capabilities the agent announced. */
  get peer(): PeerInfo {
    return this.connection.peer;
  }

  stats(): ConnectionStats {
    return this.connection.stats();
  }

  exec(options: ExecOptions): ExecProcess {
    return startExec(this.connection, options);
  }

  /** exec with optional input, collecting output: resolves with code/signal and both outputs. */
  async run(argv: string[], options: Omit<ExecOptions, "argv" | "stdin"> & { input?: Buffer | string } = {}): Promise<RunResult> {
    const { input, ...rest } = options;
    const proc = this.exec({ ...rest, argv, stdin: input !== undefined });
    const collect = async (r: AsyncIterable<Buffer>) => {
      const parts: Buffer[] = [];
      for await (const p of r) parts.push(p);
      return Buffer.concat(parts);
    };
    const out = collect(proc.stdout);
    const err = collect(proc.stderr);
    if (input !== undefined) proc.stdin.end(input);
    const exit = await proc.exit;
    return { ...exit, stdout: await out, stderr: await err };
  }

  async health(options: CallOptions = {}): Promise<Health> {
    const stream = this.connection.open({ health: {} }, { fin: true, timeoutMs: options.timeoutMs, signal: options.signal, what: "health" });
    let health: Health | undefined;
    for await (const msg of stream) {
      if (msg.body === "health") {
        const h = msg.health!;
        health = {
          uptimeMs: Number(h.uptimeMs ?? 0),
          memTotalBytes: Number(h.memTotalBytes ?? 0),
          memAvailableBytes: Number(h.memAvailableBytes ?? 0),
          loadAverage: (h.loadAvgMilli ?? 0) / 1000,
          processes: h.processes ?? 0,
          agentVersion: h.agentVersion ?? "",
        };
      }
    }
    if (!health) throw new RpcError("PROTOCOL_ERROR", "health: the agent closed the stream without a health message", { streamId: stream.id });
    return health;
  }

  /** Asks the guest to power off (default) or reboot; resolves once the agent accepted. */
  async shutdown(options: CallOptions & { poweroff?: boolean; reboot?: boolean; graceMs?: number } = {}): Promise<void> {
    if (options.poweroff && options.reboot) throw new TypeError("shutdown: choose poweroff or reboot, not both");
    const action = options.reboot ? pb.ShutdownAction.SHUTDOWN_ACTION_REBOOT : pb.ShutdownAction.SHUTDOWN_ACTION_POWEROFF;
    const stream = this.connection.open({ shutdown: { action, graceMs: options.graceMs ?? 0 } }, { fin: true, timeoutMs: options.timeoutMs, signal: options.signal, what: "shutdown" });
    for await (const _ of stream) {
      // no payload expected; CLOSE means accepted
    }
  }

  /** Closes the connection; calls still running fail with CONNECTION_CLOSED. */
  close(): Promise<void> {
    return this.connection.close();
  }
}
