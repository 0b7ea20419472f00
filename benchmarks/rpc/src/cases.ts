/**
 * The measurements: the frame codec in memory (vs a memcpy of the same bytes), raw Unix-socket
 * throughput, and the multiplexer over a Unix socket (one stream, and several at once) — each
 * returns bytes and frames per second for one run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RpcClient, FrameDecoder, FrameType, encodeData, encodeHeader, encodeMessage, encodeMessageParts, pb, serve, type CallHandlers } from "@moat/rpc";

export interface Rate {
  bytesPerSec: number;
  framesPerSec: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** What the mux does per DATA frame: frame header + StreamMessage parts (the data itself is not copied). */
export function codecEncode(totalBytes: number, chunk: number): Rate {
  const data = Buffer.alloc(chunk, 7);
  const n = Math.max(1, Math.floor(totalBytes / chunk));
  const t0 = now();
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const { parts, length } = encodeMessageParts({ stdoutData: { data } });
    sink += encodeHeader(1, FrameType.DATA, 0, length).length + parts.length;
  }
  const dt = now() - t0;
  if (sink === 0) throw new Error("encoder produced nothing");
  return { bytesPerSec: (n * chunk) / dt, framesPerSec: n / dt };
}

export function codecDecode(totalBytes: number, chunk: number): Rate {
  const data = Buffer.alloc(chunk, 7);
  const n = Math.max(1, Math.floor(totalBytes / chunk));
  const wire = Buffer.concat(Array.from({ length: n }, () => encodeData(1, encodeMessage({ stdoutData: { data } }))));
  const decoder = new FrameDecoder();
  const t0 = now();
  let frames = 0;
  for (let off = 0; off < wire.length; off += 65536) {
    for (const f of decoder.push(wire.subarray(off, off + 65536))) {
      const msg = pb.StreamMessage.decode(f.payload);
      if (msg.stdoutData?.data?.length !== chunk) throw new Error("decoded a wrong chunk");
      frames++;
    }
  }
  const dt = now() - t0;
  if (frames !== n) throw new Error(`decoded ${frames} of ${n} frames`);
  return { bytesPerSec: (n * chunk) / dt, framesPerSec: n / dt };
}

/** The memory-copy bound for the codec rows: copying the same bytes in the same chunk size. */
export function memcpy(totalBytes: number, chunk: number): Rate {
  const src = Buffer.alloc(chunk, 7);
  const n = Math.max(1, Math.floor(totalBytes / chunk));
  const dst = Buffer.allocUnsafe(chunk + 16);
  const t0 = now();
  for (let i = 0; i < n; i++) src.copy(dst, 12);
  const dt = now() - t0;
  return { bytesPerSec: (n * chunk) / dt, framesPerSec: n / dt };
}

async function socketPair(): Promise<{ a: net.Socket; b: net.Socket; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "moat-bench-rpc-"));
  const path = join(dir, "s.sock");
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((res) => server.once("connection", res));
  await new Promise<void>((res) => server.listen(path, res));
  const a = net.connect(path);
  await new Promise<void>((res) => a.once("connect", res));
  const b = await accepted;
  server.close();
  return { a, b, close: () => (a.destroy(), b.destroy(), rmSync(dir, { recursive: true, force: true })) };
}

/** Raw Unix-socket throughput: the same bytes in the same chunk size, with backpressure. */
export async function rawSocket(totalBytes: number, chunk: number): Promise<Rate> {
  const { a, b, close } = await socketPair();
  const data = Buffer.alloc(chunk, 7);
  const n = Math.max(1, Math.floor(totalBytes / chunk));
  let received = 0;
  const done = new Promise<void>((res) => b.on("data", (c: Buffer) => ((received += c.length), received >= n * chunk && res())));
  const t0 = now();
  for (let i = 0; i < n; i++) {
    if (!a.write(data)) await new Promise((r) => a.once("drain", r));
  }
  await done;
  const dt = now() - t0;
  close();
  return { bytesPerSec: (n * chunk) / dt, framesPerSec: n / dt };
}

/** The multiplexer: `streams` exec-like streams each sending their share of totalBytes as stdout. */
export async function muxStreams(totalBytes: number, chunk: number, streams: number): Promise<Rate> {
  const { a, b, close } = await socketPair();
  const perStream = Math.max(1, Math.floor(totalBytes / chunk / streams));
  const data = Buffer.alloc(chunk, 7);
  const handlers: CallHandlers = {
    async exec(stream) {
      for (let i = 0; i < perStream; i++) await stream.send({ stdoutData: { data } });
      await stream.send({ exit: { code: 0 } }, { fin: true });
    },
  };
  const [, client] = await Promise.all([serve(b, handlers), RpcClient.connect(a)]);
  const t0 = now();
  await Promise.all(
    Array.from({ length: streams }, async () => {
      const p = client.exec({ argv: ["bench"], stdin: false });
      let got = 0;
      for await (const c of p.stdout) got += (c as Buffer).length;
      await p.exit;
      if (got !== perStream * chunk) throw new Error(`stream got ${got} bytes, want ${perStream * chunk}`);
    }),
  );
  const dt = now() - t0;
  await client.close();
  close();
  const frames = perStream * streams;
  return { bytesPerSec: (frames * chunk) / dt, framesPerSec: frames / dt };
}
