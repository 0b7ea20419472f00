/**
 * The multiplexer: one Duplex (vsock connection, Unix socket, in-memory pair) carrying many
 * RpcStreams. Does the HELLO handshake, routes frames to streams, answers protocol violations as
 * PROTOCOL.md says (unknown frame type → ERROR, unknown stream → RESET, credit overrun → RESET,
 * oversized frame → fatal ERROR and close) and never throws out of its data handler.
 *
 * Events: "stream" (stream, open) for each OPEN from the peer; "protocolError" (RpcError) for
 * every violation noticed or reported by the peer; "close" (RpcError | undefined).
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { RpcError, errorName, errorNumber, FrameTooLargeError, UnknownFrameTypeError, UnknownStreamError, VersionMismatchError } from "../errors.js";
import { DEFAULT_MAX_FRAME_PAYLOAD, FLAG_FIN, FrameType, isKnownFrameType } from "../frame/constants.js";
import { FrameDecoder, type Frame } from "../frame/decoder.js";
import { encodeError, encodeHello, encodeOpen, encodeReset } from "../frame/encode.js";
import { pb, type IHello, type IOpen, type Open } from "../proto.js";
import { acceptPeerHello, buildHello, type HelloOptions, type LocalLimits, type PeerInfo, type Role } from "./hello.js";
import { RpcStream, type StreamHost } from "./stream.js";

export interface ConnectionOptions extends Omit<HelloOptions, "role"> {
  role: Role;
  /** How long to wait for the peer's HELLO (default 10000 ms). */
  handshakeTimeoutMs?: number;
  /**
   * Bytes this side may have queued for a peer that does not read (default 32 MiB). DATA waits for
   * drain, but replies to the peer's frames (RESET, ERROR, WINDOW) do not; a peer that keeps
   * sending and never reads is cut off with RESOURCE_EXHAUSTED instead of growing our memory.
   */
  maxWriteBuffer?: number;
  signal?: AbortSignal;
}

export interface OpenOptions {
  /** Half-close right after OPEN (the call sends no DATA). */
  fin?: boolean;
  /** Deadline for the whole stream, sent to the peer and enforced here. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** For error messages, e.g. "exec make". */
  what?: string;
}

export interface ConnectionStats {
  openStreams: number;
  /** Bytes received and queued in streams, not yet read by their consumers. */
  bufferedBytes: number;
  /** The highest bufferedBytes seen. */
  peakBufferedBytes: number;
  framesIn: number;
  framesOut: number;
}

export class Connection extends EventEmitter implements StreamHost {
  readonly role: Role;
  private readonly duplex: Duplex;
  private readonly decoder: FrameDecoder;
  private readonly hello: IHello;
  private readonly limits: LocalLimits;
  private peerInfo: PeerInfo | undefined;
  private readonly streams = new Map<number, RpcStream>();
  private nextLocalId: number;
  private lastPeerId = 0;
  private closed: RpcError | undefined | null = null;
  private drainWaiters: (() => void)[] = [];
  private needDrain = false;
  private buffered = 0;
  private peakBuffered = 0;
  private framesIn = 0;
  private framesOut = 0;
  private handshake: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly maxWriteBuffer: number;

  private constructor(duplex: Duplex, options: ConnectionOptions) {
    super();
    this.role = options.role;
    this.duplex = duplex;
    const { hello, limits } = buildHello(options);
    this.hello = hello;
    this.limits = limits;
    this.nextLocalId = options.role === "host" ? 1 : 2;
    this.maxWriteBuffer = options.maxWriteBuffer ?? 32 * 1024 * 1024;
    this.decoder = new FrameDecoder({ maxPayload: Math.max(limits.maxFramePayload, DEFAULT_MAX_FRAME_PAYLOAD) });
    duplex.on("data", (chunk: Buffer) => this.onBytes(chunk));
    duplex.on("end", () => this.onEnd());
    duplex.on("close", () => this.onEnd());
    duplex.on("error", (err) => this.shutdown(new RpcError("CONNECTION_CLOSED", `connection failed: ${err.message}`, { cause: err })));
    duplex.on("drain", () => this.onDrain());
  }

  /**
   * Wraps duplex and completes the HELLO exchange (the host speaks first, the guest answers).
   * Rejects with VersionMismatchError, a HANDSHAKE_FAILED/PROTOCOL_ERROR RpcError, or on timeout.
   */
  static async establish(duplex: Duplex, options: ConnectionOptions): Promise<Connection> {
    const conn = new Connection(duplex, options);
    const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
    const done = new Promise<void>((resolve, reject) => (conn.handshake = { resolve, reject }));
    const timer = setTimeout(() => conn.shutdown(new RpcError("HANDSHAKE_FAILED", `no HELLO from the ${conn.peerRole} within ${timeoutMs} ms: is the agent running and listening on its RPC port?`)), timeoutMs);
    const onAbort = () => conn.shutdown(new RpcError("CANCELLED", "handshake cancelled"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    if (conn.role === "host") conn.writeFrame(encodeHello(conn.hello));
    try {
      await done;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
    return conn;
  }

  private get peerRole(): Role {
    return this.role === "host" ? "guest" : "host";
  }

  get peer(): PeerInfo {
    if (!this.peerInfo) throw new Error("Connection.peer read before the handshake completed");
    return this.peerInfo;
  }

  get peerMaxPayload(): number {
    return this.peerInfo?.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD;
  }

  get isClosed(): boolean {
    return this.closed !== null;
  }

  stats(): ConnectionStats {
    return {
      openStreams: this.streams.size,
      bufferedBytes: this.buffered,
      peakBufferedBytes: this.peakBuffered,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
    };
  }

  /** Opens a stream with an OPEN frame. Fails at once (stream.error) if the connection is closed. */
  open(open: IOpen, options: OpenOptions = {}): RpcStream {
    const id = this.nextLocalId;
    this.nextLocalId += 2;
    const stream = new RpcStream(id, this, { recvWindow: this.limits.initialWindow, sendWindow: this.peerInfo?.initialWindow ?? 0 });
    const what = options.what ?? `stream ${id}`;
    if (this.closed !== null) {
      stream.fail(this.closed ?? new RpcError("CONNECTION_CLOSED", `${what}: connection is closed`, { streamId: id }));
      return stream;
    }
    this.streams.set(id, stream);
    const timeoutMs = options.timeoutMs ?? 0;
    this.writeFrame(encodeOpen(id, { ...open, timeoutMs }, options.fin));
    if (options.fin) void stream.close();
    stream.setDeadline(timeoutMs, what);
    stream.bindSignal(options.signal, what);
    return stream;
  }

  /** Ends the connection: open streams fail with CONNECTION_CLOSED (or reason). */
  close(reason?: RpcError): Promise<void> {
    this.shutdown(reason ?? new RpcError("CONNECTION_CLOSED", "connection closed by this side"));
    return new Promise((resolve) => {
      if (this.duplex.destroyed) return resolve();
      this.duplex.once("close", () => resolve());
      this.duplex.end();
      setTimeout(() => this.duplex.destroy(), 1000).unref();
    });
  }

  // ---- StreamHost --------------------------------------------------------------------------

  writeFrame(frame: Buffer, payload?: Uint8Array[]): void {
    if (this.closed !== null || this.duplex.destroyed || this.duplex.writableEnded) return;
    this.framesOut++;
    if (payload && payload.length > 0) {
      // Header and payload parts leave in one writev (cork), without copying the payload.
      this.duplex.cork();
      let ok = this.duplex.write(frame);
      for (const part of payload) ok = this.duplex.write(part);
      if (!ok) this.needDrain = true;
      process.nextTick(() => this.duplex.uncork());
    } else if (!this.duplex.write(frame)) {
      this.needDrain = true;
    }
    if (this.duplex.writableLength > this.maxWriteBuffer) {
      const queued = this.duplex.writableLength;
      this.shutdown(new RpcError("RESOURCE_EXHAUSTED", `the ${this.peerRole} stopped reading: ${queued} bytes queued for it (limit ${this.maxWriteBuffer}); connection closed`));
      this.duplex.destroy();
    }
  }

  writable(): Promise<void> {
    if (!this.needDrain || this.closed !== null) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  streamFinished(stream: RpcStream): void {
    this.streams.delete(stream.id);
  }

  adjustBuffered(delta: number): void {
    this.buffered += delta;
    if (this.buffered > this.peakBuffered) this.peakBuffered = this.buffered;
  }

  // ---- input -------------------------------------------------------------------------------

  private onDrain(): void {
    this.needDrain = false;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed !== null) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      const e = err as RpcError;
      if (e instanceof FrameTooLargeError) this.sendFatal(e, 0, e.streamId ?? 0);
      this.shutdown(e);
      return;
    }
    for (const frame of frames) {
      if (this.closed !== null) return;
      this.framesIn++;
      try {
        this.onFrame(frame);
      } catch (err) {
        // A bug in a handler must not take the connection down silently: report and go on.
        this.emit("protocolError", new RpcError("INTERNAL", `handling ${frame.type} frame on stream ${frame.streamId} failed: ${(err as Error).message}`, { cause: err }));
      }
    }
  }

  private onEnd(): void {
    if (this.closed !== null) return;
    try {
      this.decoder.end();
      this.shutdown(new RpcError("CONNECTION_CLOSED", `the ${this.peerRole} closed the connection`));
    } catch (err) {
      this.shutdown(err as RpcError);
    }
  }

  private onFrame(frame: Frame): void {
    const { type, streamId } = frame;
    if (!this.peerInfo) return this.onHandshakeFrame(frame);
    if (!isKnownFrameType(type)) {
      const err = new UnknownFrameTypeError(type, streamId);
      this.writeFrame(encodeError({ code: errorNumber("UNKNOWN_FRAME_TYPE"), message: err.message, frameType: type, streamId, fatal: false }));
      this.emit("protocolError", err);
      return;
    }
    switch (type) {
      case FrameType.HELLO:
        return this.fatal(new RpcError("PROTOCOL_ERROR", "second HELLO on an established connection"), type, streamId);
      case FrameType.ERROR:
        return this.onErrorFrame(frame);
      case FrameType.OPEN:
        return this.onOpen(frame);
    }
    const stream = this.streams.get(streamId);
    if (!stream) {
      if (type === FrameType.RESET) return; // a RESET for an unknown or finished stream is ignored
      if (this.neverOpened(streamId)) {
        const err = new UnknownStreamError(type, streamId);
        this.writeFrame(encodeReset(streamId, { code: errorNumber("UNKNOWN_STREAM"), message: err.message }));
        this.emit("protocolError", err);
      }
      return; // stale frame for a finished stream: dropped
    }
    let err: RpcError | undefined;
    switch (type) {
      case FrameType.DATA:
        err = stream.onData(frame.payload, (frame.flags & FLAG_FIN) !== 0);
        break;
      case FrameType.CLOSE:
        stream.onRemoteClose();
        break;
      case FrameType.WINDOW: {
        const inc = this.decodeOr(() => pb.WindowUpdate.decode(frame.payload).increment, stream, "WINDOW");
        if (inc !== undefined) err = stream.onWindow(inc);
        break;
      }
      case FrameType.RESET: {
        const reset = this.decodeOr(() => pb.Reset.decode(frame.payload), stream, "RESET");
        if (reset) stream.onRemoteReset(reset.code, reset.message, reset.errnoValue);
        break;
      }
    }
    if (err) this.emit("protocolError", err);
  }

  private decodeOr<T>(decode: () => T, stream: RpcStream, what: string): T | undefined {
    try {
      return decode();
    } catch (e) {
      stream.reset("PROTOCOL_ERROR", `stream ${stream.id}: ${what} payload is invalid (${(e as Error).message})`);
      this.emit("protocolError", stream.error);
      return undefined;
    }
  }

  private neverOpened(id: number): boolean {
    const ours = this.role === "host" ? id % 2 === 1 : id % 2 === 0 && id !== 0;
    return ours ? id >= this.nextLocalId : id > this.lastPeerId;
  }

  private onOpen(frame: Frame): void {
    const id = frame.streamId;
    const peerParity = this.role === "host" ? 0 : 1;
    const refuse = (code: "PROTOCOL_ERROR" | "UNIMPLEMENTED", message: string) => {
      this.writeFrame(encodeReset(id, { code: errorNumber(code), message }));
      this.emit("protocolError", new RpcError(code, message, { streamId: id }));
    };
    if (id === 0 || id % 2 !== peerParity || id <= this.lastPeerId) {
      return refuse("PROTOCOL_ERROR", `OPEN with stream id ${id}: the ${this.peerRole} must use ${peerParity ? "odd" : "even"} ids above ${this.lastPeerId}`);
    }
    this.lastPeerId = id;
    let open: Open;
    try {
      open = pb.Open.decode(frame.payload);
    } catch (e) {
      return refuse("PROTOCOL_ERROR", `OPEN payload on stream ${id} is not a valid Open message (${(e as Error).message})`);
    }
    if (!open.call) return refuse("UNIMPLEMENTED", `OPEN on stream ${id} names a call this side does not know`);
    if (this.listenerCount("stream") === 0) return refuse("UNIMPLEMENTED", `this ${this.role} serves no calls (${open.call})`);
    const stream = new RpcStream(id, this, { recvWindow: this.limits.initialWindow, sendWindow: this.peer.initialWindow });
    this.streams.set(id, stream);
    stream.setDeadline(open.timeoutMs, `${open.call} (stream ${id})`);
    if (frame.flags & FLAG_FIN) stream.onRemoteClose();
    this.emit("stream", stream, open);
  }

  private onErrorFrame(frame: Frame): void {
    let msg: ReturnType<typeof pb.ConnError.decode>;
    try {
      msg = pb.ConnError.decode(frame.payload);
    } catch {
      return this.shutdown(new RpcError("PROTOCOL_ERROR", `the ${this.peerRole} sent an undecodable ERROR frame`));
    }
    const text = `${this.peerRole} reported: ${msg.message}`;
    const err = msg.code === errorNumber("VERSION_MISMATCH")
      ? new VersionMismatchError(text)
      : new RpcError(errorName(msg.code), text, { streamId: msg.streamId || undefined });
    if (msg.fatal) this.shutdown(err);
    else this.emit("protocolError", err);
  }

  private onHandshakeFrame(frame: Frame): void {
    if (frame.type === FrameType.ERROR) return this.onErrorFrame(frame);
    if (frame.type !== FrameType.HELLO || frame.streamId !== 0) {
      return this.fatal(new RpcError("PROTOCOL_ERROR", `expected HELLO on stream 0 first, got frame type ${frame.type} on stream ${frame.streamId}`), frame.type, frame.streamId);
    }
    try {
      this.peerInfo = acceptPeerHello(this.hello, frame.payload, this.peerRole);
    } catch (err) {
      return this.fatal(err as RpcError, frame.type, 0);
    }
    this.decoder.maxPayload = this.limits.maxFramePayload;
    if (this.role === "guest") this.writeFrame(encodeHello(this.hello));
    this.handshake?.resolve();
    this.handshake = undefined;
  }

  private sendFatal(err: RpcError, frameType: number, streamId: number): void {
    this.writeFrame(encodeError({ code: errorNumber(err.code), message: err.message, frameType, streamId, fatal: true }));
  }

  private fatal(err: RpcError, frameType: number, streamId: number): void {
    this.sendFatal(err, frameType, streamId);
    this.shutdown(err);
    this.duplex.end();
  }

  /** Fails every stream with err and stops reading. Idempotent. */
  private shutdown(err: RpcError): void {
    if (this.closed !== null) return;
    this.closed = err;
    for (const stream of [...this.streams.values()]) {
      stream.fail(new RpcError(err.code, `stream ${stream.id}: ${err.message}`, { streamId: stream.id, cause: err }));
    }
    this.streams.clear();
    this.onDrain();
    this.handshake?.reject(err);
    this.handshake = undefined;
    if (err.code !== "CONNECTION_CLOSED") this.emit("protocolError", err);
    this.emit("close", err);
    if (!this.duplex.destroyed) {
      this.duplex.end();
      setTimeout(() => this.duplex.destroy(), 1000).unref();
    }
  }
}
