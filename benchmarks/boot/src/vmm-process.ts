/**
 * One moat VMM in its own process, the way moat runs a sandbox (one VMM host process per sandbox,
 * Node + the backend's addon): `node dist/vmm-process.js <backend package> <MachineSpec JSON>`.
 * Starts the machine, prints "STARTED", then answers lines on stdin:
 *   "stats" → one JSON line { rssBytes, guestResidentBytes, baselineRssBytes }
 *   "kill"  → kills the machine and exits.
 * End of stdin (the benchmark went away) kills the machine too, so no VMM outlives its parent.
 * baselineRssBytes is this process's RSS before the backend was loaded: the JS runtime's share.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { BackendModule, MachineSpec } from "@moat/backend-api";

function rssBytes(): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : process.memoryUsage.rss();
}

const [packageName, specJson] = process.argv.slice(2);
if (!packageName || !specJson) {
  console.error("usage: vmm-process.js <backend package> <MachineSpec JSON>");
  process.exit(2);
}
const baselineRssBytes = rssBytes();
const backend = ((await import(packageName)) as BackendModule).createBackend();
const machine = await backend.createMachine(JSON.parse(specJson) as MachineSpec);
await machine.start();
console.log("STARTED");

let ending = false;
async function end(): Promise<void> {
  if (ending) return;
  ending = true;
  await machine.kill();
  process.exit(0);
}
void machine.wait().then(() => {
  if (!ending) {
    console.error("vmm-process: the machine ended on its own");
    process.exit(1);
  }
});
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "stats") {
    void machine.stats().then((stats) => {
      console.log(JSON.stringify({ rssBytes: rssBytes(), guestResidentBytes: stats.guestResidentBytes, baselineRssBytes }));
    });
  } else if (line === "kill") {
    void end();
  }
});
lines.on("close", () => void end());
