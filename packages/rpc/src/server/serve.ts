/**
 * The serving side of the multiplexer: accept a host's HELLO on a Duplex (guest role) and route
 * each OPEN to a handler by call name. A handler owns its stream (sends replies, closes); if it
 * throws, the stream is reset with the matching code (RpcError code, or errno → code). The real
 * server is the C guest agent; this is for the Node test agent and for embedding.
 */
import type { Duplex } from "node:stream";
import { RpcError, type RpcErrorCode } from "../errors.js";
import { Connection, type ConnectionOptions } from "../mux/connection.js";
import type { RpcStream } from "../mux/stream.js";
import type { Open } from "../proto.js";

type Call = NonNullable<Open["call"]>;
/** Decoded requests are message class instances: every field present (defaults filled in). */
type Decoded<T> = { [F in keyof T]-?: Exclude<T[F], null | undefined> };
export type CallHandler<K extends Call> = (stream: RpcStream, request: Decoded<NonNullable<Open[K]>>) => Promise<void>;
export type CallHandlers = { [K in Call]?: CallHandler<K> };

const errnoCodes: Record<string, RpcErrorCode> = {
  ENOENT: "NOT_FOUND",
  EACCES: "PERMISSION_DENIED",
  EPERM: "PERMISSION_DENIED",
  EEXIST: "ALREADY_EXISTS",
  EISDIR: "IS_A_DIRECTORY",
  ENOTDIR: "NOT_A_DIRECTORY",
  ENOTEMPTY: "NOT_EMPTY",
  EINVAL: "INVALID_ARGUMENT",
  ENOSPC: "RESOURCE_EXHAUSTED",
  EMFILE: "RESOURCE_EXHAUSTED",
};

/** Resets stream with the code that best describes err. */
export function resetWithError(stream: RpcStream, err: unknown): void {
  if (stream.isFinished) return;
  if (err instanceof RpcError) return stream.reset(err.code, err.message, err.errno ?? 0);
  const e = err as NodeJS.ErrnoException;
  const code = (e?.code && errnoCodes[e.code]) || "INTERNAL";
  stream.reset(code, e?.message ?? String(err), typeof e?.errno === "number" ? Math.abs(e.errno) : 0);
}

export interface ServeOptions extends Omit<ConnectionOptions, "role"> {}

/** Waits for the host's HELLO, answers it, and serves calls until the connection closes. */
export async function serve(duplex: Duplex, handlers: CallHandlers, options: ServeOptions = {}): Promise<Connection> {
  const capabilities = options.capabilities ?? Object.keys(handlers);
  const conn = await Connection.establish(duplex, { ...options, role: "guest", capabilities });
  conn.on("stream", (stream: RpcStream, open: Open) => {
    const call = open.call!;
    const handler = handlers[call] as CallHandler<typeof call> | undefined;
    if (!handler) return stream.reset("UNIMPLEMENTED", `call ${call} is not served here`);
    handler(stream, open[call] as never).catch((err) => resetWithError(stream, err));
  });
  return conn;
}
