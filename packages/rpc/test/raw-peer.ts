/** A raw frame-level peer for bad-input tests: writes arbitrary bytes, reads decoded frames. */
import type net from "node:net";
import { FrameDecoder, type Frame } from "../src/frame/decoder.js";
import { encodeHello } from "../src/frame/encode.js";
import { HARD_MAX_FRAME_PAYLOAD } from "../src/frame/constants.js";
import { pb } from "../src/proto.js";

export class RawPeer {
  private readonly decoder = new FrameDecoder({ maxPayload: HARD_MAX_FRAME_PAYLOAD });
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  ended = false;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (c: Buffer) => {
      this.frames.push(...this.decoder.push(c).map((f) => ({ ...f, payload: Buffer.from(f.payload) })));
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** The next frame, or null once the socket closed with nothing left. */
  async next(timeoutMs = 2000): Promise<Frame | null> {
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

  /** Host-role HELLO exchange; returns the guest's Hello. */
  async handshake(hello: Partial<Parameters<typeof pb.Hello.create>[0]> = {}) {
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
}
