/**
 * client.files: put/get/readFile/stat/list/mkdir/remove against the guest's filesystem.
 * Contents travel in chunks of at most 64 KiB with stream credit, so a large file never sits in
 * memory whole (except in readFile, which asks for exactly that).
 */
import { Readable } from "node:stream";
import { RpcError } from "../errors.js";
import { asBuffer } from "../frame/encode.js";
import type { Connection } from "../mux/connection.js";
import type { RpcStream } from "../mux/stream.js";
import { pb, type IFileInfo, type IOpen, type StreamMessage } from "../proto.js";

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type FileKind = "file" | "directory" | "symlink" | "other";

export interface FileStat {
  name: string;
  type: FileKind;
  /** Permission bits (07777). */
  mode: number;
  size: number;
  mtime: Date;
  mtimeNs: number;
  uid: number;
  gid: number;
  linkTarget?: string;
}

export interface PutOptions extends CallOptions {
  /** Permission bits; default 0o644. */
  mode?: number;
  mtime?: Date;
  makeParents?: boolean;
  uid?: number;
  gid?: number;
}

const kinds: Record<number, FileKind> = {
  [pb.FileType.FILE_TYPE_REGULAR]: "file",
  [pb.FileType.FILE_TYPE_DIRECTORY]: "directory",
  [pb.FileType.FILE_TYPE_SYMLINK]: "symlink",
};

export function toFileStat(info: IFileInfo): FileStat {
  const mtimeNs = Number(info.mtimeNs ?? 0);
  const stat: FileStat = {
    name: info.name ?? "",
    type: kinds[info.type ?? 0] ?? "other",
    mode: info.mode ?? 0,
    size: Number(info.size ?? 0),
    mtime: new Date(Math.floor(mtimeNs / 1e6)),
    mtimeNs,
    uid: info.uid ?? 0,
    gid: info.gid ?? 0,
  };
  if (info.linkTarget) stat.linkTarget = info.linkTarget;
  return stat;
}

function checkPath(path: string, op: string): void {
  if (typeof path !== "string" || !path.startsWith("/") || path.includes("\0")) {
    throw new TypeError(`files.${op}: path ${JSON.stringify(path)} must be an absolute guest path without NUL bytes`);
  }
}

async function* toChunks(data: Buffer | Uint8Array | string | Readable | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  if (typeof data === "string" || data instanceof Uint8Array) {
    const buf = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
    return;
  }
  for await (const piece of data as AsyncIterable<Uint8Array | string>) {
    const buf = typeof piece === "string" ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
  }
}

export class FilesApi {
  constructor(private readonly conn: Connection) {}

  private open(call: IOpen, op: string, path: string, options: CallOptions, fin: boolean): RpcStream {
    return this.conn.open(call, { fin, timeoutMs: options.timeoutMs, signal: options.signal, what: `files.${op} ${path}` });
  }

  /** Reads every message until CLOSE. */
  private async drain(stream: RpcStream): Promise<StreamMessage[]> {
    const out: StreamMessage[] = [];
    for await (const msg of stream) out.push(msg);
    return out;
  }

  /** Writes a file atomically (temp + rename in the guest). Resolves with the written file's stat. */
  async put(path: string, data: Buffer | Uint8Array | string | Readable | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<FileStat> {
    checkPath(path, "put");
    const mode = options.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`files.put: mode ${mode} must be in 0..0o7777`);
    const stream = this.open(
      {
        filePut: {
          path,
          mode,
          mtimeNs: options.mtime ? options.mtime.getTime() * 1e6 : undefined,
          makeParents: options.makeParents ?? false,
          uid: options.uid,
          gid: options.gid,
        },
      },
      "put",
      path,
      options,
      false,
    );
    const replies = this.drain(stream);
    replies.catch(() => undefined);
    try {
      for await (const chunk of toChunks(data, stream.maxChunk)) await stream.send({ fileData: { data: chunk } });
      await stream.close();
    } catch (err) {
      // The source failed (or the stream did): make the guest drop its temporary file.
      if (!stream.isFinished) stream.reset("CANCELLED", `files.put ${path}: source failed: ${(err as Error).message}`);
      throw err;
    }
    const info = (await replies).find((m) => m.body === "fileInfo");
    if (!info) throw new RpcError("PROTOCOL_ERROR", `files.put ${path}: the agent sent no file_info`, { streamId: stream.id });
    return toFileStat(info.fileInfo!);
  }

  /** Streams a file's contents. Errors (e.g. NOT_FOUND) arrive as the Readable's 'error'. */
  get(path: string, options: CallOptions & { offset?: number; length?: number } = {}): Readable {
    checkPath(path, "get");
    const stream = this.open({ fileGet: { path, offset: options.offset ?? 0, length: options.length ?? 0 } }, "get", path, options, true);
    let resume: (() => void) | undefined;
    const out = new Readable({
      read() {
        const r = resume;
        resume = undefined;
        r?.();
      },
      destroy(err, cb) {
        if (!stream.isFinished) stream.reset("CANCELLED", `files.get ${path}: reader stopped`);
        cb(err);
      },
    });
    (async () => {
      for await (const msg of stream) {
        if (msg.body !== "fileData") continue;
        if (!out.push(asBuffer(msg.fileData!.data))) await new Promise<void>((r) => (resume = r));
      }
      out.push(null);
    })().catch((err) => out.destroy(err));
    return out;
  }

  /** The whole file as a Buffer. */
  async readFile(path: string, options: CallOptions = {}): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.get(path, options)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  async stat(path: string, options: CallOptions & { noFollow?: boolean } = {}): Promise<FileStat> {
    checkPath(path, "stat");
    const stream = this.open({ stat: { path, noFollow: options.noFollow ?? false } }, "stat", path, options, true);
    const info = (await this.drain(stream)).find((m) => m.body === "fileInfo");
    if (!info) throw new RpcError("PROTOCOL_ERROR", `files.stat ${path}: the agent sent no file_info`, { streamId: stream.id });
    return toFileStat(info.fileInfo!);
  }

  /** Directory entries (at most maxEntries, default 1,000,000: a guest cannot grow host memory without bound). */
  async list(path: string, options: CallOptions & { maxEntries?: number } = {}): Promise<FileStat[]> {
    checkPath(path, "list");
    const max = options.maxEntries ?? 1_000_000;
    const stream = this.open({ list: { path } }, "list", path, options, true);
    const out: FileStat[] = [];
    for await (const msg of stream) {
      if (msg.body !== "entries") continue;
      for (const e of msg.entries!.entries ?? []) out.push(toFileStat(e));
      if (out.length > max) {
        const message = `files.list ${path}: more than ${max} entries (raise maxEntries to read them)`;
        stream.reset("RESOURCE_EXHAUSTED", message);
        throw new RpcError("RESOURCE_EXHAUSTED", message, { streamId: stream.id });
      }
    }
    return out;
  }

  async mkdir(path: string, options: CallOptions & { mode?: number; parents?: boolean } = {}): Promise<void> {
    checkPath(path, "mkdir");
    await this.drain(this.open({ mkdir: { path, mode: options.mode ?? 0o755, parents: options.parents ?? false } }, "mkdir", path, options, true));
  }

  async remove(path: string, options: CallOptions & { recursive?: boolean } = {}): Promise<void> {
    checkPath(path, "remove");
    await this.drain(this.open({ remove: { path, recursive: options.recursive ?? false } }, "remove", path, options, true));
  }
}
