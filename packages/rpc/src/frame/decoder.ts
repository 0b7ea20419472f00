/**
 * Incremental frame decoder: push chunks of any size (down to single bytes), get whole frames.
 * Typed errors: FrameTooLargeError when a length field exceeds the limit (sticky: the byte stream
 * cannot be resynchronised), TruncatedFrameError from end() when the input stopped inside a frame.
 * Frame types are not judged here (the connection answers unknown ones); payloads are not parsed.
 */
import { FrameTooLargeError, TruncatedFrameError } from "../errors.js";
import { DEFAULT_MAX_FRAME_PAYLOAD, HARD_MAX_FRAME_PAYLOAD, HEADER_SIZE } from "./constants.js";

export interface Frame {
  streamId: number;
  type: number;
  flags: number;
  /** Payload bytes (may share memory with the pushed chunk: copy before keeping it long). */
  payload: Buffer;
}

export class FrameDecoder {
  /** Received bytes not yet returned as frames; only ever concatenated once a frame is whole. */
  private chunks: Buffer[] = [];
  private total = 0;
  private failed: FrameTooLargeError | undefined;
  private maxPayloadValue: number;

  constructor(options: { maxPayload?: number } = {}) {
    this.maxPayloadValue = FrameDecoder.checkLimit(options.maxPayload ?? DEFAULT_MAX_FRAME_PAYLOAD);
  }

  private static checkLimit(limit: number): number {
    if (!Number.isInteger(limit) || limit < 0 || limit > HARD_MAX_FRAME_PAYLOAD) {
      throw new RangeError(`maxPayload ${limit} must be an integer in 0..${HARD_MAX_FRAME_PAYLOAD}`);
    }
    return limit;
  }

  get maxPayload(): number {
    return this.maxPayloadValue;
  }

  set maxPayload(limit: number) {
    this.maxPayloadValue = FrameDecoder.checkLimit(limit);
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.total;
  }

  /** Adds bytes; returns every frame they complete, in order. Throws FrameTooLargeError. */
  push(chunk: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    if (chunk.byteLength > 0) {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.total += chunk.byteLength;
    }
    const frames: Frame[] = [];
    while (this.total >= HEADER_SIZE) {
      if (this.chunks[0]!.length < HEADER_SIZE) this.flatten();
      const head = this.chunks[0]!;
      const length = head.readUInt32LE(0);
      if (length > this.maxPayloadValue) {
        this.failed = new FrameTooLargeError(length, this.maxPayloadValue, head.readUInt32LE(4));
        this.chunks = [];
        this.total = 0;
        throw this.failed;
      }
      const need = HEADER_SIZE + length;
      if (this.total < need) break;
      if (head.length < need) this.flatten();
      const buf = this.chunks[0]!;
      frames.push({
        streamId: buf.readUInt32LE(4),
        type: buf[8]!,
        flags: buf[9]!,
        payload: buf.subarray(HEADER_SIZE, need),
      });
      if (buf.length === need) this.chunks.shift();
      else this.chunks[0] = buf.subarray(need);
      this.total -= need;
    }
    return frames;
  }

  private flatten(): void {
    this.chunks = [Buffer.concat(this.chunks, this.total)];
  }

  /** Call at end of input: throws TruncatedFrameError if a partial frame is held. */
  end(): void {
    if (this.failed || this.total === 0) return;
    this.flatten();
    const head = this.chunks[0]!;
    const need = head.length >= HEADER_SIZE ? HEADER_SIZE + head.readUInt32LE(0) : HEADER_SIZE;
    const have = this.total;
    this.chunks = [];
    this.total = 0;
    throw new TruncatedFrameError(have, need);
  }
}
