/**
 * RawPeer: a frame-level host peer for bad-input and protocol tests of any RPC endpoint (the TS mux,
 * the C agent): writes arbitrary bytes to a socket and reads back decoded frames.
 */
import { connect, type Socket } from "node:net";
import { HARD_MAX_FRAME_PAYLOAD } from "../frame/constants.js";
import { FrameDecoder, type Frame } from "../frame/decoder.js";
import { encodeHello } from "../frame/encode.js";
import { pb } from "../proto.js";

export class RawPeer {
  private readonly decoder = new FrameDecoder({ maxPayload: HARD_MAX_FRAME_PAYLOAD });
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  ended = false;

  constructor(readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      for (const f of this.decoder.push(c)) this.frames.push({ ...f, payload: Buffer.from(f.payload) });
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  /** Connects to a Unix socket (e.g. the agent in host mode). */
  static async connect(path: string): Promise<RawPeer> {
    const s = connect(path);
    await new Promise<void>((res, rej) => s.once("connect", res).once("error", rej));
    return new RawPeer(s);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** The next frame, or null once the socket closed with nothing left. */
  async next(timeoutMs = 3000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.ended) return null;
      if (Date.now() > deadline) throw new Error("RawPeer: no frame within timeout");
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.frames.shift()!;
  }

  /** Reads frames until one matches (skipping WINDOW frames and the like). */
  async until(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    for (;;) {
      const f = await this.next(timeoutMs);
      if (!f) throw new Error("RawPeer: connection closed before the expected frame");
      if (pred(f)) return f;
    }
  }

  /** Host-role HELLO exchange; returns the other side's Hello. */
  async handshake(hello: Partial<Parameters<typeof pb.Hello.create>[0]> = {}): Promise<InstanceType<typeof pb.Hello>> {
    this.write(encodeHello({ maxProtocolVersion: 1, minProtocolVersion: 1, role: pb.Role.ROLE_HOST, ...hello }));
    const f = await this.next();
    if (!f || f.type !== 1) throw new Error(`expected HELLO, got ${JSON.stringify(f)}`);
    return pb.Hello.decode(f.payload);
  }

  async waitClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error("RawPeer: socket still open");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
