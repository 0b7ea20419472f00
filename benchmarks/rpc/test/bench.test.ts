/** Smoke test: the benchmark runs end to end on tiny sizes and reports sane numbers (not a measurement). */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { agentBinary, agentExecStdout, startAgent } from "../src/agent.js";
import { formatTable, runBench } from "../src/run.js";

describe("bench-rpc smoke", () => {
  it("produces every row with positive rates and a ratio", async () => {
    const rows = await runBench({ totalBytes: 300_000, runs: 1, agent: false });
    expect(rows.map((r) => `${r.name}/${r.chunk}`)).toEqual([
      "codec encode/65536", "codec decode/65536", "mux 1 stream/65536", "mux 8 streams/65536",
      "codec encode/1024", "codec decode/1024", "mux 1 stream/1024", "mux 8 streams/1024",
    ]);
    for (const r of rows) {
      expect(r.mbPerSec.median).toBeGreaterThan(0);
      expect(r.framesPerSec.median).toBeGreaterThan(0);
      expect(r.ratio).toBeGreaterThan(0);
    }
    expect(formatTable(rows)).toContain("raw unix socket");
  });
});

describe("bench-rpc against the real C agent (host mode)", () => {
  const bin = agentBinary();
  it.skipIf(!existsSync(bin))("streams a child's stdout through the agent", async () => {
    const session = await startAgent(bin);
    try {
      const r = await agentExecStdout(session, 2_000_000);
      expect(r.bytesPerSec).toBeGreaterThan(0);
    } finally {
      await session.stop();
    }
  });
  if (!existsSync(bin)) console.log(`skipping the C agent smoke run: ${bin} not built (make -C guest/agent)`);
});
