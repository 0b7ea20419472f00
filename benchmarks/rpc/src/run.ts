/**
 * Runs every case several times and builds the report: medians and spread, each measured row
 * beside its peer (memcpy for the codec, raw Unix socket for the mux) and the ratio between them.
 */
import { agentBinary, agentExecStdout, startAgent } from "./agent.js";
import { codecDecode, codecEncode, memcpy, muxStreams, rawSocket, type Rate } from "./cases.js";
import { summarize, type Summary } from "./stats.js";
import { existsSync } from "node:fs";

export interface BenchOptions {
  /** Bytes moved per run and case. */
  totalBytes: number;
  runs: number;
  /** Also measure the real C agent in host mode (default: when its binary exists). */
  agent?: boolean;
}

export interface Row {
  name: string;
  chunk: number;
  streams: number;
  mbPerSec: Summary;
  framesPerSec: Summary;
  peer: string;
  peerMbPerSec: Summary;
  /** measured median MB/s ÷ peer median MB/s */
  ratio: number;
}

async function repeat(runs: number, f: () => Rate | Promise<Rate>): Promise<{ mb: Summary; fps: Summary }> {
  const mb: number[] = [];
  const fps: number[] = [];
  await f(); // warm-up (JIT, page faults), not counted
  for (let i = 0; i < runs; i++) {
    const r = await f();
    mb.push(r.bytesPerSec / 1e6);
    fps.push(r.framesPerSec);
  }
  return { mb: summarize(mb), fps: summarize(fps) };
}

export async function runBench(options: BenchOptions): Promise<Row[]> {
  const { totalBytes, runs } = options;
  const rows: Row[] = [];
  for (const chunk of [65536, 1024]) {
    const copy = await repeat(runs, () => memcpy(totalBytes, chunk));
    const raw = await repeat(runs, () => rawSocket(totalBytes, chunk));
    const add = (name: string, streams: number, r: { mb: Summary; fps: Summary }, peer: string, p: { mb: Summary }) =>
      rows.push({ name, chunk, streams, mbPerSec: r.mb, framesPerSec: r.fps, peer, peerMbPerSec: p.mb, ratio: r.mb.median / p.mb.median });
    add("codec encode", 0, await repeat(runs, () => codecEncode(totalBytes, chunk)), "memcpy", copy);
    add("codec decode", 0, await repeat(runs, () => codecDecode(totalBytes, chunk)), "memcpy", copy);
    add("mux 1 stream", 1, await repeat(runs, () => muxStreams(totalBytes, chunk, 1)), "raw unix socket", raw);
    add("mux 8 streams", 8, await repeat(runs, () => muxStreams(totalBytes, chunk, 8)), "raw unix socket", raw);
    if (chunk === 65536) {
      const wantAgent = options.agent ?? existsSync(agentBinary());
      if (!wantAgent) {
        if (options.agent === undefined) console.log(`skipping "C agent exec": ${agentBinary()} not built (make -C guest/agent)`);
      } else {
        const session = await startAgent();
        try {
          add("C agent exec", 1, await repeat(runs, () => agentExecStdout(session, totalBytes)), "raw unix socket", raw);
        } finally {
          await session.stop();
        }
      }
    }
  }
  return rows;
}

export function formatTable(rows: Row[]): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const lines = [
    "case             chunk  MB/s median (min..max)     frames/s median   peer             peer MB/s   ratio",
    "---------------  -----  -------------------------  ----------------  ---------------  ----------  -----",
  ];
  for (const r of rows) {
    const spread = `${f(r.mbPerSec.median)} (${f(r.mbPerSec.min)}..${f(r.mbPerSec.max)})`;
    lines.push(
      `${r.name.padEnd(15)}  ${String(r.chunk).padStart(5)}  ${spread.padEnd(25)}  ${f(r.framesPerSec.median, 0).padStart(16)}  ${r.peer.padEnd(15)}  ${f(r.peerMbPerSec.median).padStart(10)}  ${f(r.ratio, 2).padStart(5)}`,
    );
  }
  return lines.join("\n");
}
