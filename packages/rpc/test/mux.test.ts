/**
 * The multiplexer end to end over real Unix sockets: 100 concurrent streams with a slow consumer
 * (memory bounded by streams x window), cancellation, deadlines, half-close and reset.
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { RpcError } from "../src/errors.js";
import type { RpcStream } from "../src/mux/stream.js";
import type { CallHandlers } from "../src/server/serve.js";
import { connectPair, waitFor, type Pair } from "./helpers.js";

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic bytes for stream i. */
function payloadFor(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (i * 7 + k * 13) & 0xff;
  return b;
}

describe("flow control", () => {
  it("100 concurrent exec-like streams with a slow consumer keep memory within streams x window", async () => {
    const STREAMS = 100;
    const WINDOW = 32 * 1024;
    const PER_STREAM = 256 * 1024;
    const CHUNK = 8 * 1024;
    let sent = 0; // bytes of DATA the server handed to the socket
    const handlers: CallHandlers = {
      async exec(stream, req) {
        const data = payloadFor(Number(req.argv[0]), PER_STREAM);
        await stream.send({ started: { pid: 1 } });
        for (let off = 0; off < data.length; off += CHUNK) {
          await stream.send({ stdoutData: { data: data.subarray(off, off + CHUNK) } });
          sent += CHUNK;
        }
        await stream.send({ exit: { code: 0 } }, { fin: true });
      },
    };
    pair = await connectPair({ handlers, client: { initialWindow: WINDOW, maxFramePayload: 16 * 1024 } });
    const procs = Array.from({ length: STREAMS }, (_, i) => pair!.client.exec({ argv: [String(i)], stdin: false }));

    // Nobody reads: the servers must stall once credit and the Readables are full. Per stream they
    // can get the window ahead, plus what the client's Readable took (one chunk over its 16 KiB
    // mark) — far below the 25.6 MB they want to send. Checked repeatedly while nobody reads.
    const bound = STREAMS * (WINDOW + 16 * 1024 + CHUNK);
    let last = -1;
    let quiet = 0;
    for (let i = 0; i < 100 && quiet < 3; i++) {
      quiet = sent === last ? quiet + 1 : 0;
      last = sent;
      expect(sent).toBeLessThanOrEqual(bound);
      expect(pair.client.stats().bufferedBytes).toBeLessThanOrEqual(STREAMS * WINDOW);
      await sleep(150);
    }
    expect(quiet).toBe(3); // the writers stopped: a reader that stops reading stops the writer
    expect(sent).toBeLessThanOrEqual(bound);
    expect(sent).toBeLessThan(STREAMS * PER_STREAM);

    // Now read slowly, all streams at once, and check every byte.
    const digests = await Promise.all(
      procs.map(async (p, i) => {
        const h = createHash("sha256");
        for await (const chunk of p.stdout) {
          h.update(chunk as Buffer);
          if (i % 10 === 0) await sleep(1);
        }
        expect(await p.exit).toEqual({ code: 0, signal: null });
        return h.digest("hex");
      }),
    );
    digests.forEach((d, i) => expect(d).toBe(createHash("sha256").update(payloadFor(i, PER_STREAM)).digest("hex")));
    const stats = pair.client.stats();
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual(STREAMS * WINDOW);
    expect(stats.peakBufferedBytes).toBeGreaterThan(0);
    expect(stats.openStreams).toBe(0);
  });

  it("chunks to the peer's max frame payload and refuses a larger message with a clear error", async () => {
    let stream: RpcStream | undefined;
    const received: number[] = [];
    pair = await connectPair({
      handlers: {
        async exec(s) {
          stream = s;
          for await (const m of s) if (m.body === "stdinData") received.push(m.stdinData!.data!.length);
          await s.send({ exit: { code: 0 } }, { fin: true });
        },
      },
      server: { maxFramePayload: 1024, initialWindow: 4096 },
    });
    const r = await pair.client.run(["x"], { input: Buffer.alloc(5000) });
    expect(r.code).toBe(0);
    expect(received.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(Math.max(...received)).toBeLessThanOrEqual(1024);
    // The other way round: a hand-made message above the client's limit (131072) is refused.
    const p2 = pair.client.exec({ argv: ["y"] });
    await sleep(30);
    await expect(stream!.send({ stdoutData: { data: Buffer.alloc(200_000) } })).rejects.toThrow(/exceeds the peer's max_frame_payload 131072/);
    p2.stdin.end();
    await p2.exit;
  });
});

describe("cancellation and deadlines", () => {
  it("an AbortSignal resets the stream with CANCELLED on both sides, the connection lives on", async () => {
    let serverSaw: RpcError | undefined;
    const handlers: CallHandlers = {
      async exec(stream) {
        await stream.send({ started: { pid: 42 } });
        await new Promise((r) => stream.signal.addEventListener("abort", r));
        serverSaw = stream.signal.reason as RpcError;
      },
      async health(stream) {
        await stream.send({ health: { agentVersion: "t" } }, { fin: true });
      },
    };
    pair = await connectPair({ handlers });
    const ac = new AbortController();
    const p = pair.client.exec({ argv: ["sleep"], signal: ac.signal });
    expect(await p.pid).toBe(42);
    ac.abort(new Error("user pressed ^C"));
    const err = await p.exit.catch((e) => e);
    expect(err).toMatchObject({ code: "CANCELLED" });
    expect(err.message).toContain("user pressed ^C");
    await waitFor(() => serverSaw !== undefined, 5000, "server saw the reset");
    expect(serverSaw?.code).toBe("CANCELLED");
    expect(serverSaw?.message).toContain("user pressed ^C");
    expect((await pair.client.health()).agentVersion).toBe("t");
  });

  it("a deadline fails the call with DEADLINE_EXCEEDED and reaches the server", async () => {
    let serverSaw: RpcError | undefined;
    pair = await connectPair({
      handlers: {
        async health(stream) {
          await new Promise((r) => stream.signal.addEventListener("abort", r));
          serverSaw = stream.signal.reason as RpcError;
        },
      },
    });
    const t0 = Date.now();
    const err = await pair.client.health({ timeoutMs: 150 }).catch((e) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe("DEADLINE_EXCEEDED");
    expect(err.message).toMatch(/150 ms/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    await waitFor(() => serverSaw !== undefined, 5000, "server saw the deadline");
    expect(serverSaw?.code).toBe("DEADLINE_EXCEEDED");
  });

  it("an already-aborted signal fails at once", async () => {
    pair = await connectPair({ handlers: { async health() { await new Promise(() => undefined); } } });
    const err = await pair.client.health({ signal: AbortSignal.abort(new Error("no")) }).catch((e) => e);
    expect(err.code).toBe("CANCELLED");
  });
});

describe("half-close and reset", () => {
  it("the host's CLOSE ends the server's input while the server keeps sending", async () => {
    const handlers: CallHandlers = {
      async exec(stream) {
        let got = "";
        for await (const m of stream) if (m.body === "stdinData") got += Buffer.from(m.stdinData!.data!).toString();
        // input is closed; output still flows
        await stream.send({ stdoutData: { data: Buffer.from(`got:${got}`) } });
        await stream.send({ stdoutData: { data: Buffer.from(";after-close") } });
        await stream.send({ exit: { code: 0 } }, { fin: true });
      },
    };
    pair = await connectPair({ handlers });
    const r = await pair.client.run(["x"], { input: "hello" });
    expect(r.stdout.toString()).toBe("got:hello;after-close");
    expect(pair.client.stats().openStreams).toBe(0);
  });

  it("a server RESET mid-stream rejects exit with its code, message and errno", async () => {
    pair = await connectPair({
      handlers: {
        async exec(stream) {
          await stream.send({ stdoutData: { data: Buffer.from("partial") } });
          stream.reset("PERMISSION_DENIED", "open /secret: Permission denied", 13);
        },
      },
    });
    const p = pair.client.exec({ argv: ["x"], stdin: false });
    const out: Buffer[] = [];
    p.stdout.on("data", (c) => out.push(c));
    const err = await p.exit.catch((e) => e);
    expect(err).toMatchObject({ code: "PERMISSION_DENIED", errno: 13, message: "open /secret: Permission denied" });
    await expect(p.pid).rejects.toBe(err);
  });

  it("streams already running fail with CONNECTION_CLOSED when the connection drops", async () => {
    pair = await connectPair({ handlers: { async exec() { await new Promise(() => undefined); } } });
    const p = pair.client.exec({ argv: ["x"] });
    await sleep(20);
    pair.sockets.b.destroy();
    const err = await p.exit.catch((e) => e);
    expect(err.code).toBe("CONNECTION_CLOSED");
    const late = await pair.client.health().catch((e) => e);
    expect(late.code).toBe("CONNECTION_CLOSED");
  });
});
