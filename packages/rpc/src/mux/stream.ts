/**
 * One multiplexed stream (PROTOCOL.md §4–§6) as seen by either end: an ordered queue of received
 * StreamMessages with credit handed back only as the reader consumes them, a send path that waits
 * for the peer's credit, half-close, reset, and an AbortSignal that fires when the stream fails
 * (reset by either side, deadline, connection loss).
 */
import { RpcError, errorName, errorNumber, type RpcErrorCode } from "../errors.js";
import { encodeClose, encodeHeader, encodeMessageParts, encodeReset, encodeWindow } from "../frame/encode.js";
import { FLAG_FIN, FrameType, MAX_CHUNK } from "../frame/constants.js";
import { pb, type IStreamMessage, type StreamMessage } from "../proto.js";

/** Bytes a StreamMessage adds around a chunk: two tags and two length varints (<= 3 bytes each). */
const CHUNK_OVERHEAD = 8;

/** What a stream needs from its connection. */
export interface StreamHost {
  /** Writes a frame now — never blocks. Header and payload may come as separate buffers. */
  writeFrame(frame: Buffer, payload?: Uint8Array[]): void;
  /** Resolves when the socket can take more data (Writable backpressure). */
  writable(): Promise<void>;
  /** The peer's max_frame_payload. */
  readonly peerMaxPayload: number;
  /** Called once when the stream has finished (both sides closed, or reset). */
  streamFinished(stream: RpcStream): void;
  /** Accounting of received-but-unread bytes, for memory bounds. */
  adjustBuffered(delta: number): void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class RpcStream {
  readonly id: number;
  private readonly host: StreamHost;
  private readonly abort = new AbortController();
  private readonly window: number;

  // Receive side.
  private readonly queue: { msg: StreamMessage; size: number }[] = [];
  private queuedBytes = 0;
  /** Bytes the peer may still send before it must wait for WINDOW. */
  private recvCredit: number;
  /** Bytes consumed by the reader but not yet granted back. */
  private consumed = 0;
  private grantScheduled = false;
  private remoteClosed = false;
  private readers: Waiter[] = [];

  // Send side.
  private sendCredit: number;
  private localClosed = false;
  private creditWaiters: Waiter[] = [];
  private sendChain: Promise<void> = Promise.resolve();

  private failure: RpcError | undefined;
  private finished = false;
  private deadline: NodeJS.Timeout | undefined;

  constructor(id: number, host: StreamHost, options: { recvWindow: number; sendWindow: number }) {
    this.id = id;
    this.host = host;
    this.window = options.recvWindow;
    this.recvCredit = options.recvWindow;
    this.sendCredit = options.sendWindow;
  }

  /** Aborts when the stream fails; `signal.reason` is the RpcError. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get error(): RpcError | undefined {
    return this.failure;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Bytes received and not yet read. Never exceeds the window granted to the peer. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Largest data chunk that fits one DATA frame for this peer (<= MAX_CHUNK = 65535). */
  get maxChunk(): number {
    return Math.min(MAX_CHUNK, this.host.peerMaxPayload - CHUNK_OVERHEAD);
  }

  /** Credit left for sending DATA to the peer. */
  get credit(): number {
    return this.sendCredit;
  }

  // ---- reading ----------------------------------------------------------------------------

  /** The next message, or null once the peer has closed its side. Rejects with the stream's error. */
  read(): Promise<StreamMessage | null> {
    const item = this.queue.shift();
    if (item) {
      this.consumeBytes(item.size);
      return Promise.resolve(item.msg);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.remoteClosed) return Promise.resolve(null);
    return new Promise<void>((resolve, reject) => this.readers.push({ resolve, reject })).then(() => this.read());
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamMessage> {
    for (;;) {
      const msg = await this.read();
      if (msg === null) return;
      yield msg;
    }
  }

  private consumeBytes(size: number): void {
    this.queuedBytes -= size;
    this.host.adjustBuffered(-size);
    this.consumed += size;
    if (this.remoteClosed || this.failure) return;
    if (this.consumed >= this.window / 2) {
      this.grant();
    } else if (this.queue.length === 0 && !this.grantScheduled) {
      // The reader caught up: hand the credit back soon (coalesced), so a sender waiting for room
      // for one large message can never wait forever on a half-window threshold.
      this.grantScheduled = true;
      setImmediate(() => {
        this.grantScheduled = false;
        if (this.consumed > 0 && !this.remoteClosed && !this.failure) this.grant();
      });
    }
  }

  private grant(): void {
    const increment = this.consumed;
    this.consumed = 0;
    this.recvCredit += increment;
    this.host.writeFrame(encodeWindow(this.id, increment));
  }

  // ---- writing ----------------------------------------------------------------------------

  /**
   * Sends one message, waiting for credit and socket room; `fin` half-closes after it. Messages
   * and the close are written in call order. Rejects with the stream's error if it fails first.
   */
  send(msg: IStreamMessage, options: { fin?: boolean } = {}): Promise<void> {
    const { parts, length } = encodeMessageParts(msg);
    if (length > this.host.peerMaxPayload) {
      return Promise.reject(new RangeError(`message of ${length} bytes exceeds the peer's max_frame_payload ${this.host.peerMaxPayload}: split data into chunks of at most ${this.maxChunk} bytes`));
    }
    const fin = options.fin === true;
    if (this.localClosed) return Promise.reject(new RpcError("PROTOCOL_ERROR", `stream ${this.id}: send after close`, { streamId: this.id }));
    if (fin) this.localClosed = true;
    const run = async () => {
      await this.waitCredit(length);
      await this.host.writable();
      this.throwIfFailed();
      this.sendCredit -= length;
      this.host.writeFrame(encodeHeader(this.id, FrameType.DATA, fin ? FLAG_FIN : 0, length), parts);
      if (fin) this.maybeFinish();
    };
    const p = this.sendChain.then(run);
    this.sendChain = p.catch(() => undefined);
    return p;
  }

  /** Half-closes this side (CLOSE frame) after every pending send. Idempotent. */
  close(): Promise<void> {
    if (this.localClosed) return this.sendChain;
    this.localClosed = true;
    const p = this.sendChain.then(() => {
      if (this.failure) return;
      this.host.writeFrame(encodeClose(this.id));
      this.maybeFinish();
    });
    this.sendChain = p.catch(() => undefined);
    return p;
  }

  /** Aborts the stream both ways with a RESET carrying code and message. No-op once finished. */
  reset(code: RpcErrorCode, message: string, errno = 0): void {
    if (this.finished) return;
    this.host.writeFrame(encodeReset(this.id, { code: errorNumber(code), message, errnoValue: errno }));
    this.fail(new RpcError(code, message, { errno, streamId: this.id }));
  }

  /** Starts the deadline clock: on expiry the stream is reset with DEADLINE_EXCEEDED. */
  setDeadline(timeoutMs: number, what: string): void {
    if (timeoutMs <= 0 || this.finished) return;
    this.deadline = setTimeout(() => this.reset("DEADLINE_EXCEEDED", `${what}: deadline of ${timeoutMs} ms exceeded`), timeoutMs);
    this.deadline.unref?.();
  }

  /** Resets with CANCELLED when signal aborts. */
  bindSignal(signal: AbortSignal | undefined, what: string): void {
    if (!signal) return;
    const onAbort = () => {
      const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
      this.reset("CANCELLED", `${what}: cancelled (${reason})`);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    this.abort.signal.addEventListener("abort", () => signal.removeEventListener("abort", onAbort), { once: true });
    void this.onFinish().then(() => signal.removeEventListener("abort", onAbort));
  }

  private finishWaiters: (() => void)[] = [];
  /** Resolves when the stream has finished, successfully or not. */
  onFinish(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => this.finishWaiters.push(resolve));
  }

  private waitCredit(size: number): Promise<void> {
    this.throwIfFailed();
    if (this.sendCredit >= size) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.creditWaiters.push({ resolve, reject })).then(() => this.waitCredit(size));
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  // ---- events from the connection -----------------------------------------------------------

  /** A DATA frame arrived. Returns an error to report if the frame broke the rules. */
  onData(payload: Buffer, fin: boolean): RpcError | undefined {
    if (this.finished || this.remoteClosed) return undefined;
    const size = payload.length;
    if (size > this.recvCredit) {
      const credit = this.recvCredit;
      const message = `stream ${this.id}: DATA of ${size} bytes exceeds the ${credit} bytes of credit granted`;
      this.reset("FLOW_CONTROL", message);
      return this.failure;
    }
    this.recvCredit -= size;
    let msg: StreamMessage;
    try {
      msg = pb.StreamMessage.decode(payload);
    } catch (err) {
      this.reset("PROTOCOL_ERROR", `stream ${this.id}: DATA payload is not a valid StreamMessage (${(err as Error).message})`);
      return this.failure;
    }
    if (!msg.body) {
      this.reset("UNIMPLEMENTED", `stream ${this.id}: DATA carries a message kind this side does not know`);
      return this.failure;
    }
    this.queue.push({ msg, size });
    this.queuedBytes += size;
    this.host.adjustBuffered(size);
    if (fin) this.remoteClosed = true;
    this.wakeReaders();
    if (fin) this.maybeFinish();
    return undefined;
  }

  onRemoteClose(): void {
    if (this.finished || this.remoteClosed) return;
    this.remoteClosed = true;
    this.wakeReaders();
    this.maybeFinish();
  }

  /** A WINDOW frame arrived. */
  onWindow(increment: number): RpcError | undefined {
    if (this.finished) return undefined;
    if (increment <= 0) {
      this.reset("PROTOCOL_ERROR", `stream ${this.id}: WINDOW increment must be > 0`);
      return this.failure;
    }
    if (this.sendCredit + increment > 0x7fff_ffff) {
      this.reset("FLOW_CONTROL", `stream ${this.id}: WINDOW of ${increment} would raise credit above 2^31-1`);
      return this.failure;
    }
    this.sendCredit += increment;
    const waiters = this.creditWaiters;
    this.creditWaiters = [];
    for (const w of waiters) w.resolve();
    return undefined;
  }

  /** A RESET frame arrived from the peer. */
  onRemoteReset(code: number, message: string, errno: number): void {
    if (this.finished) return;
    const name = errorName(code);
    this.fail(new RpcError(name, message || `stream ${this.id} reset by peer (${name})`, { errno, streamId: this.id }));
  }

  /** The stream ends with err (connection loss, local or remote reset). */
  fail(err: RpcError): void {
    if (this.finished) return;
    this.failure = err;
    this.host.adjustBuffered(-this.queuedBytes);
    this.queue.length = 0;
    this.queuedBytes = 0;
    const readers = this.readers.concat(this.creditWaiters);
    this.readers = [];
    this.creditWaiters = [];
    for (const w of readers) w.reject(err);
    this.finish();
    this.abort.abort(err);
  }

  private wakeReaders(): void {
    const readers = this.readers;
    this.readers = [];
    for (const w of readers) w.resolve();
  }

  private maybeFinish(): void {
    // Finished for the connection when both sides closed; queued messages stay readable.
    if (this.localClosed && this.remoteClosed && !this.finished) {
      this.sendChain.then(() => this.finish());
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.deadline) clearTimeout(this.deadline);
    this.host.streamFinished(this);
    for (const w of this.finishWaiters.splice(0)) w();
  }
}
