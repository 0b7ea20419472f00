/**
 * Bad input on the wire, sent by a raw frame-level peer to a real serve() over a Unix socket:
 * each case gets the typed error PROTOCOL.md prescribes; the connection survives where it can.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RpcClient } from "../src/client/client.js";
import { RpcError, TruncatedFrameError, VersionMismatchError } from "../src/errors.js";
import { FrameType, HEADER_SIZE } from "../src/frame/constants.js";
import { encodeData, encodeFrame, encodeHello, encodeMessage, encodeOpen } from "../src/frame/encode.js";
import type { Connection } from "../src/mux/connection.js";
import { pb } from "../src/proto.js";
import { serve, type CallHandlers } from "../src/server/serve.js";
import { socketPair, type SocketPair } from "./helpers.js";
import { RawPeer } from "../src/testing.js";

const handlers: CallHandlers = {
  async health(stream) {
    await stream.send({ health: { agentVersion: "bad-input-test" } }, { fin: true });
  },
  async exec(stream) {
    // Never reads: lets a test overrun the credit.
    await new Promise((r) => stream.signal.addEventListener("abort", r));
  },
};

let sockets: SocketPair;
let server: Promise<Connection>;
let raw: RawPeer;
let serverErrors: RpcError[];

beforeEach(async () => {
  sockets = await socketPair();
  serverErrors = [];
  server = serve(sockets.b, handlers, { initialWindow: 4096, maxFramePayload: 4096 });
  server.then((c) => c.on("protocolError", (e: RpcError) => serverErrors.push(e))).catch(() => undefined);
  raw = new RawPeer(sockets.a);
});
afterEach(() => sockets.close());

async function expectHealthy(streamId: number): Promise<void> {
  raw.write(encodeOpen(streamId, { health: {} }, true));
  const data = await raw.next();
  expect(data).toMatchObject({ type: FrameType.DATA, streamId });
  expect(pb.StreamMessage.decode(data!.payload).health?.agentVersion).toBe("bad-input-test");
}

function decodeReset(payload: Buffer) {
  return pb.Reset.decode(payload);
}

describe("bad input", () => {
  it("unknown frame type: ERROR (not fatal), the connection goes on", async () => {
    await raw.handshake();
    raw.write(encodeFrame(0, 99, 0, Buffer.from("future stuff")));
    const f = await raw.next();
    expect(f?.type).toBe(FrameType.ERROR);
    const e = pb.ConnError.decode(f!.payload);
    expect(e).toMatchObject({ code: pb.ErrorCode.ERROR_CODE_UNKNOWN_FRAME_TYPE, frameType: 99, fatal: false });
    expect(e.message).toContain("99");
    await expectHealthy(1);
    expect(serverErrors.map((x) => x.code)).toEqual(["UNKNOWN_FRAME_TYPE"]);
  });

  it("DATA for a stream never opened: RESET UNKNOWN_STREAM, the connection goes on", async () => {
    await raw.handshake();
    raw.write(encodeData(7, encodeMessage({ stdinData: { data: Buffer.from("x") } })));
    const f = await raw.next();
    expect(f).toMatchObject({ type: FrameType.RESET, streamId: 7 });
    expect(decodeReset(f!.payload).code).toBe(pb.ErrorCode.ERROR_CODE_UNKNOWN_STREAM);
    await expectHealthy(9);
  });

  it("DATA beyond the granted credit: RESET FLOW_CONTROL on that stream only", async () => {
    await raw.handshake();
    raw.write(encodeOpen(1, { exec: { argv: ["x"], stdinOpen: true } }));
    const chunk = encodeMessage({ stdinData: { data: Buffer.alloc(3000) } });
    raw.write(encodeData(1, chunk)); // 3000+ of 4096: fine
    raw.write(encodeData(1, chunk)); // over the window
    const f = await raw.next();
    expect(f).toMatchObject({ type: FrameType.RESET, streamId: 1 });
    const r = decodeReset(f!.payload);
    expect(r.code).toBe(pb.ErrorCode.ERROR_CODE_FLOW_CONTROL);
    expect(r.message).toMatch(/exceeds the \d+ bytes of credit/);
    await expectHealthy(3);
    expect(serverErrors.map((x) => x.code)).toContain("FLOW_CONTROL");
  });

  it("a length beyond the limit: fatal ERROR FRAME_TOO_LARGE, then the connection closes", async () => {
    await raw.handshake();
    const head = Buffer.alloc(HEADER_SIZE);
    head.writeUInt32LE(9_000_000, 0);
    head.writeUInt32LE(1, 4);
    head[8] = FrameType.DATA;
    raw.write(head);
    const f = await raw.next();
    expect(f?.type).toBe(FrameType.ERROR);
    const e = pb.ConnError.decode(f!.payload);
    expect(e).toMatchObject({ code: pb.ErrorCode.ERROR_CODE_FRAME_TOO_LARGE, fatal: true });
    expect(e.message).toContain("9000000");
    await raw.waitClosed();
    const conn = await server;
    expect(conn.isClosed).toBe(true);
  });

  it("a connection ending inside a frame: TruncatedFrameError on the receiver", async () => {
    await raw.handshake();
    const conn = await server;
    const closed = new Promise<RpcError>((res) => conn.once("close", res));
    const frame = encodeOpen(1, { health: {} }, true);
    raw.socket.end(frame.subarray(0, frame.length - 2));
    const err = await closed;
    expect(err).toBeInstanceOf(TruncatedFrameError);
    expect(err.message).toMatch(/inside a frame/);
  });

  it("OPEN with the wrong stream id parity: RESET PROTOCOL_ERROR", async () => {
    await raw.handshake();
    raw.write(encodeOpen(2, { health: {} }, true));
    const f = await raw.next();
    expect(f).toMatchObject({ type: FrameType.RESET, streamId: 2 });
    expect(decodeReset(f!.payload).code).toBe(pb.ErrorCode.ERROR_CODE_PROTOCOL_ERROR);
    await expectHealthy(1);
  });

  it("an OPEN naming an unknown call and a garbage DATA payload: RESET UNIMPLEMENTED / PROTOCOL_ERROR", async () => {
    await raw.handshake();
    raw.write(encodeFrame(1, FrameType.OPEN, 0, Buffer.from([0xa0, 0x06, 0x00]))); // field 100 (egress, reserved): unknown here
    const f = await raw.next();
    expect(f).toMatchObject({ type: FrameType.RESET, streamId: 1 });
    expect(decodeReset(f!.payload).code).toBe(pb.ErrorCode.ERROR_CODE_UNIMPLEMENTED);
    raw.write(encodeOpen(3, { exec: { argv: ["x"] } }));
    raw.write(encodeFrame(3, FrameType.DATA, 0, Buffer.from([0xff, 0xff, 0xff])));
    const g = await raw.next();
    expect(g).toMatchObject({ type: FrameType.RESET, streamId: 3 });
    expect(decodeReset(g!.payload).code).toBe(pb.ErrorCode.ERROR_CODE_PROTOCOL_ERROR);
    await expectHealthy(5);
  });

  it("a first frame that is not HELLO: fatal PROTOCOL_ERROR", async () => {
    raw.write(encodeOpen(1, { health: {} }, true));
    const f = await raw.next();
    expect(f?.type).toBe(FrameType.ERROR);
    expect(pb.ConnError.decode(f!.payload)).toMatchObject({ code: pb.ErrorCode.ERROR_CODE_PROTOCOL_ERROR, fatal: true });
    await expect(server).rejects.toMatchObject({ code: "PROTOCOL_ERROR" });
    await raw.waitClosed();
  });

  it("version mismatch (host too new): the guest sends fatal VERSION_MISMATCH naming both ranges", async () => {
    raw.write(encodeHello({ minProtocolVersion: 2, maxProtocolVersion: 3, role: pb.Role.ROLE_HOST, softwareVersion: "future-host" }));
    const f = await raw.next();
    expect(f?.type).toBe(FrameType.ERROR);
    const e = pb.ConnError.decode(f!.payload);
    expect(e).toMatchObject({ code: pb.ErrorCode.ERROR_CODE_VERSION_MISMATCH, fatal: true });
    expect(e.message).toContain("1..1");
    expect(e.message).toContain("2..3");
    await expect(server).rejects.toBeInstanceOf(VersionMismatchError);
  });
});

describe("version negotiation with RpcClient", () => {
  it("connect() rejects with VersionMismatchError when the agent is older", async () => {
    sockets.a.removeAllListeners("data");
    const err = await RpcClient.connect(sockets.a, { minProtocolVersion: 2, maxProtocolVersion: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(VersionMismatchError);
    expect(err.message).toMatch(/1\.\.1/);
    await expect(server).rejects.toBeInstanceOf(VersionMismatchError);
  });

  it("connect() times out with HANDSHAKE_FAILED when nobody answers", async () => {
    const quiet = await socketPair();
    const err = await RpcClient.connect(quiet.a, { timeoutMs: 100 }).catch((e) => e);
    expect(err).toMatchObject({ code: "HANDSHAKE_FAILED" });
    expect(err.message).toMatch(/within 100 ms/);
    quiet.close();
  });
});

describe("a peer that sends but never reads", () => {
  it("is cut off with RESOURCE_EXHAUSTED once replies to it pile up beyond maxWriteBuffer", async () => {
    const s = await socketPair();
    const conn = serve(s.b, handlers, { maxWriteBuffer: 256 * 1024 });
    const peer = new RawPeer(s.a);
    await peer.handshake();
    const c = await conn;
    const closed = new Promise<RpcError>((res) => c.once("close", res));
    s.a.pause(); // stop reading: every ERROR reply now queues on the server side
    const junk = Buffer.concat(Array.from({ length: 2000 }, () => encodeFrame(0, 99, 0, Buffer.alloc(8))));
    let err: RpcError | undefined;
    closed.then((e) => (err = e));
    for (let i = 0; i < 200 && !err; i++) {
      s.a.write(junk);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(err?.code).toBe("RESOURCE_EXHAUSTED");
    expect(err?.message).toMatch(/stopped reading/);
    s.close();
  });
});
