/**
 * The end-to-end row: the real C guest agent in host mode (guest/agent/build/moat-agent-host
 * --listen-unix, or $MOAT_AGENT_HOST_BIN) runs `head -c N /dev/zero` and the host reads its stdout
 * through @moat/rpc. Absent binary → the row is skipped with the reason printed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RpcClient } from "@moat/rpc";
import type { Rate } from "./cases.js";

export function agentBinary(): string {
  // src/agent.ts and the bundled dist/main.js both sit one level below benchmarks/rpc.
  return process.env.MOAT_AGENT_HOST_BIN ?? resolve(dirname(fileURLToPath(import.meta.url)), "../../../guest/agent/build/moat-agent-host");
}

export interface AgentSession {
  client: RpcClient;
  stop(): Promise<void>;
}

export async function startAgent(binary = agentBinary()): Promise<AgentSession> {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: build it with make -C guest/agent (or set MOAT_AGENT_HOST_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), "moat-bench-agent-"));
  const socket = join(dir, "agent.sock");
  const proc: ChildProcess = spawn(binary, ["--listen-unix", socket], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((res, rej) => {
    let out = "";
    const timer = setTimeout(() => rej(new Error("agent not ready within 10 s")), 10_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("MOAT_AGENT_READY")) (clearTimeout(timer), res());
    });
    proc.once("exit", (code) => (clearTimeout(timer), rej(new Error(`agent exited with ${code} before ready`))));
  });
  const sock = net.connect(socket);
  await new Promise<void>((res, rej) => sock.once("connect", res).once("error", rej));
  const client = await RpcClient.connect(sock);
  return {
    client,
    async stop() {
      await client.close();
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One run: the agent streams totalBytes of a child's stdout to the host. */
export async function agentExecStdout(session: AgentSession, totalBytes: number): Promise<Rate> {
  const t0 = Number(process.hrtime.bigint()) / 1e9;
  const p = session.client.exec({ argv: ["head", "-c", String(totalBytes), "/dev/zero"], stdin: false });
  let got = 0;
  let frames = 0;
  for await (const c of p.stdout) {
    got += (c as Buffer).length;
    frames++;
  }
  const exit = await p.exit;
  const dt = Number(process.hrtime.bigint()) / 1e9 - t0;
  if (exit.code !== 0 || got !== totalBytes) throw new Error(`agent exec: exit ${JSON.stringify(exit)}, ${got} of ${totalBytes} bytes`);
  return { bytesPerSec: got / dt, framesPerSec: frames / dt };
}
