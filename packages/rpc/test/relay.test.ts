/**
 * RpcRelay: many callers over one agent connection, with real Unix sockets and the Node reference
 * agent behind a transport that takes one connection at a time (as QEMU's virtio-serial socket does).
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, test } from "vitest";
import { RpcClient } from "../src/client/client.js";
import { RpcRelay } from "../src/relay/relay.js";
import { createNodeAgent } from "../src/server/node-agent.js";
import { serve } from "../src/server/serve.js";
import { type SocketPair, socketPair, waitFor } from "./helpers.js";

/** An agent reachable one connection at a time; counts dials and refuses a second concurrent one. */
function singleLaneAgent() {
  const state = { dials: 0, open: 0, maxOpen: 0, pairs: [] as SocketPair[] };
  const dial = async () => {
    state.dials++;
    state.open++;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    const pair = await socketPair();
    state.pairs.push(pair);
    pair.b.once("close", () => state.open--);
    void serve(pair.b, createNodeAgent()).catch(() => pair.b.destroy());
    return pair.a;
  };
  return { state, dial };
}

const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

async function caller(relay: RpcRelay, options: Parameters<typeof RpcClient.connect>[1] = {}): Promise<RpcClient> {
  const pair = await socketPair();
  opened.push(pair);
  relay.attach(pair.b);
  return RpcClient.connect(pair.a, { timeoutMs: 5000, ...options });
}

describe("RpcRelay", () => {
  test("eight concurrent callers share one agent connection; each gets only its own output", async () => {
    const agent = singleLaneAgent();
    const relay = new RpcRelay({ dial: agent.dial });
    opened.push(relay);
    const clients = await Promise.all(Array.from({ length: 8 }, () => caller(relay)));
    const results = await Promise.all(clients.map((c, i) => c.run(["sh", "-c", `sleep 0.2; echo caller-${i}; echo err-${i} >&2; exit ${i}`])));
    results.forEach((r, i) => {
      expect(r.stdout.toString()).toBe(`caller-${i}\n`);
      expect(r.stderr.toString()).toBe(`err-${i}\n`);
      expect(r.code).toBe(i);
    });
    expect(agent.state.dials).toBe(1);
    expect(agent.state.maxOpen).toBe(1);
    await Promise.all(clients.map((c) => c.close()));
  });

  test("flow control holds end to end: two 4 MiB stdin round trips through cat at once arrive intact", async () => {
    const agent = singleLaneAgent();
    const relay = new RpcRelay({ dial: agent.dial });
    opened.push(relay);
    const [a, b] = await Promise.all([caller(relay), caller(relay)]);
    const inputs = [Buffer.alloc(4 << 20, 1), Buffer.alloc(4 << 20, 2)].map((buf, i) => {
      for (let j = 0; j < buf.length; j += 4096) buf[j] = (j >> 12) + i;
      return buf;
    });
    const sha = (buf: Buffer) => createHash("sha256").update(buf).digest("hex");
    const [ra, rb] = await Promise.all([a!.run(["cat"], { input: inputs[0] }), b!.run(["cat"], { input: inputs[1] })]);
    expect(sha(ra.stdout)).toBe(sha(inputs[0]!));
    expect(sha(rb.stdout)).toBe(sha(inputs[1]!));
    expect(agent.state.maxOpen).toBe(1);
    await Promise.all([a!.close(), b!.close()]);
  });

  test("a caller that goes away has its command killed; the agent connection stays for the next caller, and is dialled again once the agent ends it", async () => {
    const agent = singleLaneAgent();
    const relay = new RpcRelay({ dial: agent.dial });
    opened.push(relay);
    const watcher = await caller(relay);
    const leaver = await caller(relay);
    const proc = leaver.exec({ argv: ["sleep", "30"] });
    proc.exit.catch(() => undefined);
    await waitFor(() => agent.state.open === 1);
    let running = 0;
    for (let i = 0; i < 50 && running !== 1; i++, await new Promise((r) => setTimeout(r, 50))) running = (await watcher.health()).processes;
    expect(running).toBe(1);
    await leaver.close();
    await expect(proc.exit).rejects.toMatchObject({ name: "RpcError" });
    let processes = 1;
    for (let i = 0; i < 50 && processes !== 0; i++, await new Promise((r) => setTimeout(r, 50))) processes = (await watcher.health()).processes;
    expect(processes).toBe(0);

    await watcher.close();
    await waitFor(() => relay.callerCount === 0, 5000, "the callers to leave");
    const next = await caller(relay);
    expect((await next.run(["echo", "next"])).stdout.toString()).toBe("next\n");
    expect([agent.state.dials, agent.state.open]).toEqual([1, 1]); // no re-dial between callers
    await next.close();

    agent.state.pairs[0]!.b.destroy(); // the agent ends its connection
    await waitFor(() => agent.state.open === 0, 5000, "the agent connection to end");
    const again = await caller(relay);
    expect((await again.run(["echo", "again"])).stdout.toString()).toBe("again\n");
    expect(agent.state.dials).toBe(2);
    await again.close();
  });

  test("the agent connection dropping ends every caller's connection, as a direct one would", async () => {
    const agent = singleLaneAgent();
    const relay = new RpcRelay({ dial: agent.dial });
    opened.push(relay);
    const client = await caller(relay);
    const proc = client.exec({ argv: ["sleep", "30"] });
    await waitFor(() => agent.state.pairs.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    agent.state.pairs[0]!.b.destroy();
    await expect(proc.exit).rejects.toMatchObject({ code: "CONNECTION_CLOSED" });
  });

  test("bad callers: other flow-control limits are refused with the reason; an unreachable agent is a clear error", async () => {
    const agent = singleLaneAgent();
    const relay = new RpcRelay({ dial: agent.dial });
    opened.push(relay);
    await expect(caller(relay, { initialWindow: 1 << 20 })).rejects.toThrow(/relayed: announce max_frame_payload 131072 and initial_window 262144/);

    const nowhere = new RpcRelay({
      dial: async () => {
        throw new Error("the guest agent has not opened its RPC port yet");
      },
    });
    opened.push(nowhere);
    await expect(nowhere.ready()).rejects.toThrow(/has not opened its RPC port/);
    await expect(caller(nowhere)).rejects.toThrow(/has not opened its RPC port/);
  });
});
