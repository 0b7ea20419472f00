/**
 * moat's VMM (@moat/backend-kvm) the way a sandbox runs it: in a process of its own (Node + the
 * addon; dist/vmm-process.js), timed from spawn to the ready marker in its console log. The RSS
 * sample is that process's RSS and the guest RAM it has resident (stats().guestResidentBytes,
 * mincore in the VMM): the difference is what moat's VMM costs, JS runtime included.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { backendUnavailableReason, benchSpec, waitForMarker } from "./moat-backend.js";
import type { Contender } from "./contender.js";
import { withScratchDir } from "./scratch.js";

const PACKAGE = "@moat/backend-kvm";
/** Beside the bundled entry (dist/main.js → dist/vmm-process.js). */
const entry = fileURLToPath(new URL("./vmm-process.js", import.meta.url));

interface VmmProcessStats {
  rssBytes: number;
  guestResidentBytes?: number;
  baselineRssBytes: number;
}

export const moatKvm: Contender = {
  name: "moat-kvm",
  async unavailableReason() {
    if (!existsSync(entry)) return `${entry} is missing: build the benchmark first (pnpm --filter @moat/bench-boot build)`;
    return backendUnavailableReason(PACKAGE);
  },
  bootOnce: (image) =>
    withScratchDir(async (dir) => {
      const consoleLogPath = `${dir}/console.log`;
      const started = performance.now();
      const child = spawn(process.execPath, [entry, PACKAGE, JSON.stringify(benchSpec(image, consoleLogPath))], { stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      let ended = false;
      const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
      void exited.then(() => (ended = true));
      const replies = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      try {
        const uptime = await waitForMarker("moat-kvm", consoleLogPath, image, started, () => ended).catch((error: Error) => {
          throw new Error(`${error.message}${stderr ? `\nVMM process stderr:\n${stderr}` : ""}`);
        });
        const readyMs = performance.now() - started;
        child.stdin.write("stats\n");
        let stats: VmmProcessStats | undefined;
        for (let reply = await replies.next(); !reply.done; reply = await replies.next()) {
          if (reply.value.startsWith("{")) {
            stats = JSON.parse(reply.value) as VmmProcessStats;
            break;
          }
        }
        if (!stats || stats.guestResidentBytes === undefined) throw new Error(`moat-kvm: the VMM process gave no stats${stderr ? `: ${stderr}` : ""}`);
        return {
          readyMs,
          guestUptimeS: uptime,
          rss: { totalRssBytes: stats.rssBytes, guestRssBytes: stats.guestResidentBytes, overheadBytes: stats.rssBytes - stats.guestResidentBytes, runtimeBaselineBytes: stats.baselineRssBytes },
        };
      } finally {
        child.stdin.end("kill\n");
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }
    }),
};
