/**
 * `pnpm --filter @moat/bench-policy bench [--rules N] [--rounds N] [--json FILE]`: prints the
 * decisions-per-second table (indexed vs linear) and writes the same report as JSON.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runPolicyBenchmark } from "./benchmark.js";
import { formatReport } from "./report.js";

const { values } = parseArgs({
  options: {
    rules: { type: "string", default: "1000" },
    rounds: { type: "string", default: "7" },
    json: { type: "string", default: resolve(dirname(fileURLToPath(import.meta.url)), "../results/policy.json") },
  },
});

function whole(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench-policy: --${name} must be a whole number >= 1, got '${text}'`);
    process.exit(2);
  }
  return n;
}

const report = runPolicyBenchmark({ rules: whole("rules", values.rules!), rounds: whole("rounds", values.rounds!) });
console.log(formatReport(report));
const target = resolve(values.json!);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(`${target}.tmp`, JSON.stringify(report, null, 2) + "\n");
renameSync(`${target}.tmp`, target);
console.log(`report written to ${target}`);
