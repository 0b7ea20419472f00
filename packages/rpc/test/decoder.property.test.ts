/** Property-based tests (fast-check) of the frame decoder: random, split, truncated, oversized input. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameTooLargeError, TruncatedFrameError } from "../src/errors.js";
import { HEADER_SIZE } from "../src/frame/constants.js";
import { FrameDecoder, type Frame } from "../src/frame/decoder.js";
import { encodeFrame, encodeMessageParts } from "../src/frame/encode.js";
import { pb } from "../src/proto.js";

const MAX = 1024;
const frameArb = fc.record({
  streamId: fc.nat({ max: 0xffff_ffff }),
  type: fc.nat({ max: 255 }),
  flags: fc.nat({ max: 255 }),
  payload: fc.uint8Array({ maxLength: 300 }),
});
const plain = (f: Frame) => ({ streamId: f.streamId, type: f.type, flags: f.flags, payload: [...f.payload] });
const expected = (f: { streamId: number; type: number; flags: number; payload: Uint8Array }) => ({ ...f, payload: [...f.payload] });

/** Cuts buf at the given (sorted, deduplicated) offsets. */
function cut(buf: Buffer, points: number[]): Buffer[] {
  const offs = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of offs) {
    out.push(buf.subarray(prev, o));
    prev = o;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe("FrameDecoder properties", () => {
  it("decodes any sequence of frames split at any points into the same frames", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, points) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrame(f.streamId, f.type, f.flags, f.payload)));
        const d = new FrameDecoder({ maxPayload: MAX });
        const got = cut(wire, points).flatMap((c) => d.push(c).map(plain));
        expect(got).toEqual(frames.map(expected));
        expect(d.bufferedBytes).toBe(0);
        d.end();
      }),
    );
  });

  it("decodes the same frames when fed one byte at a time", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 6 }), (frames) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrame(f.streamId, f.type, f.flags, f.payload)));
        const d = new FrameDecoder({ maxPayload: MAX });
        const got: ReturnType<typeof plain>[] = [];
        for (let i = 0; i < wire.length; i++) got.push(...d.push(wire.subarray(i, i + 1)).map(plain));
        expect(got).toEqual(frames.map(expected));
      }),
      { numRuns: 50 },
    );
  });

  it("reports truncation with a TruncatedFrameError at end of input", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.nat(), (frames, k) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrame(f.streamId, f.type, f.flags, f.payload)));
        const last = HEADER_SIZE + frames[frames.length - 1]!.payload.length;
        const drop = 1 + (k % (last - 1)); // remove 1..last-1 bytes: the last frame is incomplete
        const d = new FrameDecoder({ maxPayload: MAX });
        const got = d.push(wire.subarray(0, wire.length - drop));
        expect(got.map(plain)).toEqual(frames.slice(0, -1).map(expected));
        expect(() => d.end()).toThrow(TruncatedFrameError);
      }),
    );
  });

  it("rejects a length beyond the limit with FrameTooLargeError, and keeps rejecting", () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX + 1, max: 0xffff_ffff }), fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 11 }), (len, sid, split) => {
        const head = Buffer.alloc(HEADER_SIZE);
        head.writeUInt32LE(len, 0);
        head.writeUInt32LE(sid, 4);
        head[8] = 3;
        const d = new FrameDecoder({ maxPayload: MAX });
        let err: unknown;
        try {
          d.push(head.subarray(0, split));
          d.push(head.subarray(split));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(FrameTooLargeError);
        expect((err as FrameTooLargeError).length).toBe(len);
        expect((err as FrameTooLargeError).message).toContain(String(MAX));
        expect(() => d.push(Buffer.alloc(1))).toThrow(FrameTooLargeError);
      }),
    );
  });

  it("never throws anything but FrameTooLargeError on random bytes, and accounts for every byte", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const d = new FrameDecoder({ maxPayload: 64 });
        let consumed = 0;
        for (const c of chunks) {
          try {
            consumed += d.push(c).reduce((n, f) => n + HEADER_SIZE + f.payload.length, 0);
          } catch (e) {
            expect(e).toBeInstanceOf(FrameTooLargeError);
            return;
          }
        }
        const total = chunks.reduce((n, c) => n + c.length, 0);
        expect(consumed + d.bufferedBytes).toBe(total);
      }),
    );
  });
});

describe("encodeMessageParts (zero-copy chunk path)", () => {
  it("produces exactly protobufjs's bytes for chunk messages of any size, and for other messages", () => {
    fc.assert(
      fc.property(fc.constantFrom("stdinData", "stdoutData", "stderrData", "fileData"), fc.integer({ min: 0, max: 70_000 }), (field, size) => {
        const msg = { [field]: { data: Buffer.alloc(size, 0xab) } };
        const { parts, length } = encodeMessageParts(msg);
        const want = Buffer.from(pb.StreamMessage.encode(msg).finish());
        expect(Buffer.concat(parts).equals(want)).toBe(true);
        expect(length).toBe(want.length);
      }),
      { numRuns: 200 },
    );
    const other = { exit: { code: 0 } };
    expect(Buffer.concat(encodeMessageParts(other).parts).equals(Buffer.from(pb.StreamMessage.encode(other).finish()))).toBe(true);
  });
});
