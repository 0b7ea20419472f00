/**
 * `pnpm --filter @moat/bench-rpc bench [--mb N] [--runs N] [--json PATH]`: prints the table and
 * writes the same numbers as JSON (default benchmarks/rpc/out/rpc.json).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { formatTable, runBench } from "./run.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const mb = Number(arg("mb", "64"));
const runs = Number(arg("runs", "5"));
const jsonPath = resolve(arg("json", "out/rpc.json"));
if (!(mb > 0) || !Number.isInteger(runs) || runs < 1) {
  console.error(`bench-rpc: --mb must be > 0 and --runs an integer >= 1 (got --mb ${mb} --runs ${runs})`);
  process.exit(2);
}

console.log(`@moat/rpc benchmark: ${mb} MB per run, ${runs} runs (+1 warm-up), node ${process.version}, ${os.cpus().length} CPUs`);
const rows = await runBench({ totalBytes: mb * 1e6, runs });
console.log(formatTable(rows));
mkdirSync(dirname(jsonPath), { recursive: true });
const tmp = `${jsonPath}.tmp-${process.pid}`;
writeFileSync(tmp, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, mbPerRun: mb, runs, rows }, null, 2)}\n`);
renameSync(tmp, jsonPath);
console.log(`JSON: ${jsonPath}`);
