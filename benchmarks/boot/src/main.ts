/**
 * `pnpm --filter @moat/bench-boot bench [--runs N] [--memory MiB] [--json FILE]`: prints the boot
 * table. On a host whose /dev/kvm cannot boot Linux (our PVM machines) it re-runs itself inside the
 * nested-KVM L1 (tools/nested-kvm) unless MOAT_NESTED_L1=1 says it already is there or --here is given;
 * the JSON report is written on the host from the line "BENCH-BOOT-JSON {...}" it prints.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { runNested } from "@moat/nested-kvm";
import { runBootBenchmark } from "./benchmark.js";
import { benchImage } from "./image.js";
import { formatReport } from "./report.js";

const JSON_PREFIX = "BENCH-BOOT-JSON ";

function wholeNumber(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1, got '${value}'`);
    return n;
  };
}

const program = new Command("bench-boot")
  .option("--runs <n>", "counted boots per contender", wholeNumber("--runs"), 5)
  .option("--memory <MiB>", "guest memory", wholeNumber("--memory"), 256)
  .option("--json <file>", "also write the report as JSON here", resolve(dirname(fileURLToPath(import.meta.url)), "../results/boot.json"))
  .option("--here", "run on this host even outside the nested L1", false)
  .parse(process.argv);
const options = program.opts<{ runs: number; memory: number; json: string; here: boolean }>();

function writeJson(file: string, json: string) {
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(`${target}.tmp`, json);
  renameSync(`${target}.tmp`, target);
  console.log(`report written to ${target}`);
}

if (process.env.MOAT_NESTED_L1 === "1" || options.here) {
  const image = benchImage(options.memory);
  const report = await runBootBenchmark(image, options.runs, (line) => console.log(line));
  console.log(`\n${formatReport(report)}`);
  console.log(`${JSON_PREFIX}${JSON.stringify(report)}`);
  if (options.here) writeJson(options.json, JSON.stringify(report, null, 2));
} else {
  // Build the cached inputs on the host (the L1 sees the host read-only), then go inside.
  benchImage(options.memory);
  console.log("bench-boot: this host's /dev/kvm cannot boot Linux; running inside the nested-KVM L1 (tools/nested-kvm)");
  let output = "";
  const result = await runNested({
    command: [process.execPath, fileURLToPath(import.meta.url), "--runs", String(options.runs), "--memory", String(options.memory)],
    timeoutSeconds: 300 + options.runs * 60,
    onOutput: (data) => {
      output += data.toString();
      process.stdout.write(data);
    },
  });
  const line = output.split("\n").find((l) => l.startsWith(JSON_PREFIX));
  if (line) writeJson(options.json, JSON.stringify(JSON.parse(line.slice(JSON_PREFIX.length)), null, 2));
  process.exitCode = result.exitCode !== 0 ? result.exitCode : line ? 0 : 1;
}
