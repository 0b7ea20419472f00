/**
 * Wire-level behaviour of the agent (PROTOCOL.md) with a raw frame peer: bad input gets the
 * defined ERROR/RESET and the agent keeps serving; the golden vectors encoded by the TS side are
 * decoded and answered by the agent; a new HELLO resets a session; shutdown ends host mode.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeData, encodeFrame, encodeHello, encodeMessage, encodeOpen, encodeWindow, pb } from "@moat/rpc";
import { agentBinaries, agentDir, startAgent, type RunningAgent } from "./agent-harness.js";
import { RawPeer } from "@moat/rpc/testing";

const T = { HELLO: 1, OPEN: 2, DATA: 3, CLOSE: 4, RESET: 5, WINDOW: 6, ERROR: 7 } as const;
const E = pb.ErrorCode;
const vectors = join(agentDir, "../../packages/rpc/test-vectors/ts");

const reset = (payload: Buffer) => pb.Reset.decode(payload);
const connError = (payload: Buffer) => pb.ConnError.decode(payload);

describe.each(agentBinaries())("protocol ($name build)", ({ path }) => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent(path);
  });
  afterAll(async () => {
    if (agent.proc.exitCode === null) await agent.stop();
  });

  /** The agent still serves a fresh connection. */
  async function stillServing() {
    const c = await agent.client();
    expect((await c.health()).agentVersion).toMatch(/\d/);
    await c.close();
  }

  it("requires HELLO first (fatal PROTOCOL_ERROR)", async () => {
    const p = await RawPeer.connect(agent.socket);
    p.write(encodeOpen(1, { health: {} }, true));
    const f = await p.next();
    expect(f?.type).toBe(T.ERROR);
    expect(connError(f!.payload)).toMatchObject({ code: E.ERROR_CODE_PROTOCOL_ERROR, fatal: true });
    expect(await p.next()).toBeNull();
    await stillServing();
  });

  it("rejects a HELLO with no common version (fatal VERSION_MISMATCH naming both ranges)", async () => {
    const p = await RawPeer.connect(agent.socket);
    p.write(encodeHello({ maxProtocolVersion: 3, minProtocolVersion: 2, role: pb.Role.ROLE_HOST }));
    const f = await p.next();
    expect(f?.type).toBe(T.ERROR);
    const e = connError(f!.payload);
    expect(e).toMatchObject({ code: E.ERROR_CODE_VERSION_MISMATCH, fatal: true });
    expect(e.message).toContain("2..3");
    expect(e.message).toContain("1..1");
    expect(await p.next()).toBeNull();
  });

  it("answers a frame longer than max_frame_payload with fatal FRAME_TOO_LARGE", async () => {
    const p = await RawPeer.connect(agent.socket);
    await p.handshake();
    const header = Buffer.alloc(12);
    header.writeUInt32LE(9_000_000, 0);
    header.writeUInt32LE(1, 4);
    header.writeUInt8(T.DATA, 8);
    p.write(header);
    const f = await p.next();
    expect(f?.type).toBe(T.ERROR);
    const e = connError(f!.payload);
    expect(e).toMatchObject({ code: E.ERROR_CODE_FRAME_TOO_LARGE, fatal: true });
    expect(e.message).toContain("9000000");
    expect(await p.next()).toBeNull();
    await stillServing();
  });

  it("skips an unknown frame type with a non-fatal ERROR and carries on", async () => {
    const p = await RawPeer.connect(agent.socket);
    await p.handshake();
    p.write(encodeFrame(0, 99, 0, Buffer.from("future stuff")));
    const f = await p.next();
    expect(f?.type).toBe(T.ERROR);
    expect(connError(f!.payload)).toMatchObject({ code: E.ERROR_CODE_UNKNOWN_FRAME_TYPE, frameType: 99, fatal: false });
    p.write(encodeOpen(1, { health: {} }, true));
    const h = await p.until((x) => x.streamId === 1 && x.type === T.DATA);
    expect(pb.StreamMessage.decode(h.payload).body).toBe("health");
    p.close();
  });

  it("answers stream-level mistakes with RESET and keeps the connection", async () => {
    const p = await RawPeer.connect(agent.socket);
    await p.handshake();
    // DATA for a stream never opened.
    p.write(encodeData(7, encodeMessage({ stdinData: { data: Buffer.from("x") } })));
    let f = await p.until((x) => x.streamId === 7);
    expect(f.type).toBe(T.RESET);
    expect(reset(f.payload).code).toBe(E.ERROR_CODE_UNKNOWN_STREAM);
    // An even (guest-side) id.
    p.write(encodeOpen(10, { health: {} }, true));
    f = await p.until((x) => x.streamId === 10);
    expect(reset(f.payload).code).toBe(E.ERROR_CODE_PROTOCOL_ERROR);
    // A payload that is not protobuf.
    p.write(encodeFrame(9, T.OPEN, 0, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
    f = await p.until((x) => x.streamId === 9);
    expect(reset(f.payload).code).toBe(E.ERROR_CODE_PROTOCOL_ERROR);
    // An Open with no call this agent knows.
    p.write(encodeOpen(11, { timeoutMs: 5 }, true));
    f = await p.until((x) => x.streamId === 11);
    expect(reset(f.payload).code).toBe(E.ERROR_CODE_UNIMPLEMENTED);
    // An id that is not above the last one.
    p.write(encodeOpen(11, { health: {} }, true));
    f = await p.until((x) => x.streamId === 11);
    expect(reset(f.payload).code).toBe(E.ERROR_CODE_PROTOCOL_ERROR);
    // DATA beyond the granted credit (the agent grants 4 x 131072 per stream).
    p.write(encodeOpen(13, { exec: { argv: ["sleep", "5"], stdinOpen: true } }));
    f = await p.until((x) => x.streamId === 13 && x.type === T.DATA); // started
    const chunk = encodeMessage({ stdinData: { data: Buffer.alloc(65535) } });
    for (let i = 0; i < 9; i++) p.write(encodeData(13, chunk));
    f = await p.until((x) => x.streamId === 13 && x.type === T.RESET);
    const r = reset(f.payload);
    expect(r.code).toBe(E.ERROR_CODE_FLOW_CONTROL);
    expect(r.message).toContain("credit");
    // A zero WINDOW increment.
    p.write(encodeOpen(15, { exec: { argv: ["sleep", "5"] } }, true));
    await p.until((x) => x.streamId === 15 && x.type === T.DATA);
    p.write(encodeWindow(15, 0));
    f = await p.until((x) => x.streamId === 15 && x.type === T.RESET);
    expect(reset(f.payload).code).toBe(E.ERROR_CODE_PROTOCOL_ERROR);
    // Still fine.
    p.write(encodeOpen(17, { health: {} }, true));
    f = await p.until((x) => x.streamId === 17);
    expect(f.type).toBe(T.DATA);
    p.close();
  });

  it("survives random bytes and truncated frames on many connections", async () => {
    for (let i = 0; i < 60; i++) {
      const p = await RawPeer.connect(agent.socket);
      if (i % 3 === 0) await p.handshake();
      p.write(randomBytes(1 + Math.floor(Math.random() * 600)));
      if (i % 2 === 0) p.write(encodeOpen(101, { exec: { argv: ["true"] } }).subarray(0, 15)); // cut mid-frame
      p.close();
    }
    await stillServing();
  });

  it("survives well-framed garbage on live streams (random DATA/CLOSE/RESET/WINDOW/ERROR payloads)", async () => {
    // OPEN and HELLO payloads stay well-formed here (random ones could name a real call, e.g.
    // shutdown or a file put on the host); their garbage cases are covered above.
    const kinds = [T.DATA, T.DATA, T.DATA, T.CLOSE, T.RESET, T.WINDOW, T.ERROR, 8];
    for (let round = 0; round < 6; round++) {
      const p = await RawPeer.connect(agent.socket);
      await p.handshake();
      p.write(encodeOpen(1, { exec: { argv: ["cat"], stdinOpen: true } }));
      p.write(encodeOpen(3, { exec: { argv: ["sh", "-c", "cat >/dev/null"], stdinOpen: true, tty: true } }));
      p.write(encodeOpen(5, { list: { path: "/" } }, true));
      for (let i = 0; i < 200; i++) {
        const type = kinds[Math.floor(Math.random() * kinds.length)]!;
        const id = 1 + Math.floor(Math.random() * 8);
        const payload = randomBytes(Math.floor(Math.random() * 96));
        p.write(encodeFrame(type === T.ERROR ? 0 : id, type, Math.random() < 0.2 ? 1 : 0, payload));
      }
      p.close();
    }
    await stillServing();
  });

  it("ends the old session's streams when a new HELLO arrives (serial-port reconnect semantics)", async () => {
    const p = await RawPeer.connect(agent.socket);
    await p.handshake();
    p.write(encodeOpen(1, { exec: { argv: ["sh", "-c", "echo $$; exec sleep 30"] } }, true));
    await p.until((x) => x.streamId === 1 && x.type === T.DATA); // started
    const out = await p.until((x) => x.streamId === 1 && x.type === T.DATA);
    const pid = Number(Buffer.from(pb.StreamMessage.decode(out.payload).stdoutData!.data!).toString().trim());
    expect(pid).toBeGreaterThan(1);
    const hello = await p.handshake();
    expect(hello.role).toBe(pb.Role.ROLE_GUEST);
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(() => process.kill(pid, 0)).toThrow();
    // Stream ids start over in the new session.
    p.write(encodeOpen(1, { health: {} }, true));
    expect((await p.until((x) => x.streamId === 1)).type).toBe(T.DATA);
    p.close();
  });

  it("decodes and answers the golden vectors the TypeScript side encodes", async (ctx) => {
    if (!existsSync(join(vectors, "index.json"))) {
      console.log(`skipped: no golden vectors at ${vectors} (packages/rpc has not generated them)`);
      ctx.skip();
      return;
    }
    const v = (name: string) => readFileSync(join(vectors, name));
    const p = await RawPeer.connect(agent.socket);
    p.write(v("00-hello-host.bin"));
    expect((await p.next())?.type).toBe(T.HELLO);
    p.write(v("02-open-health-fin.bin")); // stream 3
    const h = await p.until((x) => x.streamId === 3);
    expect(pb.StreamMessage.decode(h.payload).body).toBe("health");
    p.write(v("12-open-stat.bin")); // stream 11: stat /bin/sh, no_follow
    const st = await p.until((x) => x.streamId === 11);
    expect(st.type).toBe(T.DATA);
    expect(pb.StreamMessage.decode(st.payload).fileInfo?.name).toBe("/bin/sh");
    p.write(v("13-open-list.bin")); // stream 13: list /
    const ls = await p.until((x) => x.streamId === 13 && x.type === T.DATA);
    expect(pb.StreamMessage.decode(ls.payload).entries?.entries?.length).toBeGreaterThan(3);
    rmSync("/tmp/a b.txt", { force: true });
    p.write(v("09-open-file-put.bin")); // stream 7... ids must increase: the agent resets it
    const put = await p.until((x) => x.streamId === 7);
    expect(put.type).toBe(T.RESET);
    expect(reset(put.payload).code).toBe(E.ERROR_CODE_PROTOCOL_ERROR);
    p.write(v("18-unknown-type-99.bin"));
    const unk = await p.until((x) => x.type === T.ERROR);
    expect(connError(unk.payload)).toMatchObject({ code: E.ERROR_CODE_UNKNOWN_FRAME_TYPE, frameType: 99, fatal: false });
    p.close();

    // file_put + file_data(FIN) in a session of their own, where stream 7 is fresh.
    const q = await RawPeer.connect(agent.socket);
    q.write(v("00-hello-host.bin"));
    await q.next();
    q.write(v("09-open-file-put.bin"));
    q.write(v("10-data-file-data-fin.bin"));
    const info = await q.until((x) => x.streamId === 7 && x.type !== T.WINDOW);
    expect(info.type).toBe(T.DATA);
    expect(pb.StreamMessage.decode(info.payload).fileInfo).toMatchObject({ mode: 0o600 });
    expect(readFileSync("/tmp/a b.txt", "utf8")).toBe("hello\n");
    rmSync("/tmp/a b.txt", { force: true });
    q.close();
  });

  it("stops host mode on a shutdown request (the golden shutdown vector)", async () => {
    const p = await RawPeer.connect(agent.socket);
    await p.handshake();
    p.write(encodeOpen(19, { shutdown: { action: pb.ShutdownAction.SHUTDOWN_ACTION_POWEROFF, graceMs: 100 } }, true));
    const f = await p.until((x) => x.streamId === 19);
    expect(f.type).toBe(T.CLOSE);
    const code = await new Promise<number | null>((res) => {
      if (agent.proc.exitCode !== null) res(agent.proc.exitCode);
      else agent.proc.once("exit", (c) => res(c));
    });
    expect(code, agent.stderr()).toBe(0);
  });
});
