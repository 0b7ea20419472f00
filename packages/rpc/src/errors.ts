/**
 * Typed errors of @moat/rpc. Every error is an RpcError with a `code` (the protocol's ErrorCode
 * name without its prefix, e.g. "FRAME_TOO_LARGE", or "TRUNCATED_FRAME"/"CONNECTION_CLOSED" for
 * local conditions), a message that names the value and the fix, and, where known, the errno and
 * stream id. Subclasses exist for the conditions callers branch on.
 */
import { pb } from "./proto.js";

export type RpcErrorCode =
  | keyof typeof errorCodeByName
  | "TRUNCATED_FRAME"
  | "CONNECTION_CLOSED"
  | "HANDSHAKE_FAILED";

/** ErrorCode enum names without the ERROR_CODE_ prefix → wire numbers. */
export const errorCodeByName = {
  UNSPECIFIED: 0,
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 2,
  PROTOCOL_ERROR: 3,
  FLOW_CONTROL: 4,
  UNKNOWN_STREAM: 5,
  UNKNOWN_FRAME_TYPE: 6,
  FRAME_TOO_LARGE: 7,
  VERSION_MISMATCH: 8,
  UNIMPLEMENTED: 9,
  NOT_FOUND: 10,
  PERMISSION_DENIED: 11,
  INVALID_ARGUMENT: 12,
  ALREADY_EXISTS: 13,
  RESOURCE_EXHAUSTED: 14,
  SPAWN_FAILED: 15,
  UNAVAILABLE: 16,
  INTERNAL: 17,
  IS_A_DIRECTORY: 18,
  NOT_A_DIRECTORY: 19,
  NOT_EMPTY: 20,
} as const;
export type WireErrorName = keyof typeof errorCodeByName;

const nameByNumber = new Map<number, WireErrorName>(
  Object.entries(errorCodeByName).map(([k, v]) => [v, k as WireErrorName]),
);

// Keep the table honest against the generated enum.
for (const [name, value] of Object.entries(errorCodeByName)) {
  const generated = (pb.ErrorCode as unknown as Record<string, number>)[`ERROR_CODE_${name}`];
  if (generated !== value) throw new Error(`@moat/rpc: ErrorCode ${name} is ${generated} in the proto, ${value} here`);
}

export function errorName(code: number): WireErrorName {
  return nameByNumber.get(code) ?? "UNSPECIFIED";
}

export function errorNumber(code: RpcErrorCode): number {
  return (errorCodeByName as Record<string, number>)[code] ?? errorCodeByName.INTERNAL;
}

export interface RpcErrorDetails {
  errno?: number;
  streamId?: number;
  cause?: unknown;
}

export class RpcError extends Error {
  readonly code: RpcErrorCode;
  readonly errno: number | undefined;
  readonly streamId: number | undefined;
  constructor(code: RpcErrorCode, message: string, details: RpcErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "RpcError";
    this.code = code;
    this.errno = details.errno || undefined;
    this.streamId = details.streamId;
  }
}

/** A frame's length field exceeds the receiver's max_frame_payload (fatal for the connection). */
export class FrameTooLargeError extends RpcError {
  constructor(readonly length: number, readonly limit: number, streamId?: number) {
    super("FRAME_TOO_LARGE", `frame length ${length} exceeds max_frame_payload ${limit}: the peer must split its messages (PROTOCOL.md §1)`, { streamId });
    this.name = "FrameTooLargeError";
  }
}

/** The byte stream ended inside a frame. */
export class TruncatedFrameError extends RpcError {
  constructor(readonly have: number, readonly need: number) {
    super("TRUNCATED_FRAME", `connection ended inside a frame: ${have} of ${need} bytes arrived`);
    this.name = "TruncatedFrameError";
  }
}

/** A frame type this implementation does not know; the connection survives. */
export class UnknownFrameTypeError extends RpcError {
  constructor(readonly frameType: number, streamId: number) {
    super("UNKNOWN_FRAME_TYPE", `unknown frame type ${frameType} on stream ${streamId}: skipped (a newer peer?)`, { streamId });
    this.name = "UnknownFrameTypeError";
  }
}

/** A non-OPEN frame for a stream id that was never opened; the stream is reset, the connection survives. */
export class UnknownStreamError extends RpcError {
  constructor(readonly frameType: number, streamId: number) {
    super("UNKNOWN_STREAM", `frame type ${frameType} for stream ${streamId}, which was never opened`, { streamId });
    this.name = "UnknownStreamError";
  }
}

/** The peer sent DATA beyond the credit this side granted; the stream is reset. */
export class FlowControlError extends RpcError {
  constructor(readonly size: number, readonly credit: number, streamId: number) {
    super("FLOW_CONTROL", `stream ${streamId}: DATA of ${size} bytes exceeds the ${credit} bytes of credit granted`, { streamId });
    this.name = "FlowControlError";
  }
}

/** HELLO ranges do not overlap (fatal). */
export class VersionMismatchError extends RpcError {
  constructor(message: string) {
    super("VERSION_MISMATCH", message);
    this.name = "VersionMismatchError";
  }
}
