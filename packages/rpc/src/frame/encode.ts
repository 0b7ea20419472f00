/** Frame encoding (PROTOCOL.md §1): a 12-byte little-endian header, then the payload bytes. */
import { pb, type IConnError, type IHello, type IOpen, type IReset, type IStreamMessage } from "../proto.js";
import { FLAG_FIN, FrameType, HARD_MAX_FRAME_PAYLOAD, HEADER_SIZE } from "./constants.js";

/** A view of bytes as a Buffer without copying them. */
export function asBuffer(bytes: Uint8Array | null | undefined): Buffer {
  if (!bytes) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Just the 12-byte header of a frame whose payload is `length` bytes (sent beside the payload, no copy). */
export function encodeHeader(streamId: number, type: number, flags: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE);
  out.writeUInt32LE(length, 0);
  out.writeUInt32LE(streamId, 4);
  out.writeUInt8(type & 0xff, 8);
  out.writeUInt8(flags & 0xff, 9);
  out.writeUInt16LE(0, 10);
  return out;
}

/** Encodes one frame around an already-encoded payload. */
export function encodeFrame(streamId: number, type: number, flags: number, payload?: Uint8Array): Buffer {
  const len = payload?.length ?? 0;
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff_ffff) {
    throw new RangeError(`stream id ${streamId} is not a u32`);
  }
  if (len > HARD_MAX_FRAME_PAYLOAD) throw new RangeError(`payload of ${len} bytes exceeds the hard limit ${HARD_MAX_FRAME_PAYLOAD}`);
  const out = Buffer.allocUnsafe(HEADER_SIZE + len);
  out.writeUInt32LE(len, 0);
  out.writeUInt32LE(streamId, 4);
  out.writeUInt8(type & 0xff, 8);
  out.writeUInt8(flags & 0xff, 9);
  out.writeUInt16LE(0, 10);
  if (payload && len > 0) out.set(payload, HEADER_SIZE);
  return out;
}

export const encodeHello = (hello: IHello): Buffer => encodeFrame(0, FrameType.HELLO, 0, pb.Hello.encode(hello).finish());

export const encodeOpen = (streamId: number, open: IOpen, fin = false): Buffer =>
  encodeFrame(streamId, FrameType.OPEN, fin ? FLAG_FIN : 0, pb.Open.encode(open).finish());

/** Encodes a StreamMessage payload (its length is what DATA costs in credit). */
export const encodeMessage = (msg: IStreamMessage): Uint8Array => pb.StreamMessage.encode(msg).finish();

/** StreamMessage fields whose body is a Chunk, by field number (frame.proto). */
const chunkFields: Record<string, number> = { stdinData: 1, stdoutData: 2, stderrData: 3, fileData: 8 };

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/**
 * Encodes a StreamMessage as a list of buffers. A message whose only body is a Chunk comes out as
 * a few header bytes plus the caller's data itself (no copy of the data); anything else goes
 * through protobufjs. The bytes are identical to pb.StreamMessage.encode (tested).
 */
export function encodeMessageParts(msg: IStreamMessage): { parts: Uint8Array[]; length: number } {
  const keys = Object.keys(msg).filter((k) => (msg as Record<string, unknown>)[k] != null);
  const field = keys.length === 1 ? chunkFields[keys[0]!] : undefined;
  const data = field ? (msg as Record<string, { data?: unknown } | undefined>)[keys[0]!]?.data : undefined;
  if (field === undefined || !(data instanceof Uint8Array)) {
    const payload = encodeMessage(msg);
    return { parts: [payload], length: payload.length };
  }
  const chunkLen = 1 + varint(data.length).length + data.length; // Chunk{ data = 1 }
  const head = Buffer.from([(field << 3) | 2, ...varint(chunkLen), (1 << 3) | 2, ...varint(data.length)]);
  return { parts: data.length > 0 ? [head, data] : [head], length: head.length + data.length };
}

export const encodeData = (streamId: number, payload: Uint8Array, fin = false): Buffer =>
  encodeFrame(streamId, FrameType.DATA, fin ? FLAG_FIN : 0, payload);

export const encodeClose = (streamId: number): Buffer => encodeFrame(streamId, FrameType.CLOSE, 0);

export const encodeReset = (streamId: number, reset: IReset): Buffer =>
  encodeFrame(streamId, FrameType.RESET, 0, pb.Reset.encode(reset).finish());

export const encodeWindow = (streamId: number, increment: number): Buffer =>
  encodeFrame(streamId, FrameType.WINDOW, 0, pb.WindowUpdate.encode({ increment }).finish());

export const encodeError = (err: IConnError): Buffer => encodeFrame(0, FrameType.ERROR, 0, pb.ConnError.encode(err).finish());
