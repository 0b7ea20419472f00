/**
 * `tools/nested-kvm/run [--timeout S] [--mem MiB] [--cpus N] [--verbose] -- <command...>`: runs the
 * command inside the L1 VM (same checkout, cwd and environment, read-only host root with a tmpfs
 * overlay), streams its output and exits with its status (124: timed out, 125: harness failure).
 * SIGINT/SIGTERM/SIGHUP kill QEMU before this process exits.
 */
import { Command, InvalidArgumentError } from "commander";
import { startNested, EXIT_HARNESS_ERROR } from "./run.js";

function positiveInteger(name: string, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, got '${value}'`);
    }
    return parsed;
  };
}

const program = new Command("run")
  .description("Run one command inside a QEMU TCG VM whose /dev/kvm has hardware-virtualization semantics (moat test tier T2)")
  .option("--timeout <seconds>", "kill the VM when the command runs longer than this", positiveInteger("--timeout", 86_400), 600)
  .option("--mem <MiB>", "memory of the VM in MiB", positiveInteger("--mem", 65_536), 4096)
  .option("--cpus <n>", "virtual CPUs of the VM", positiveInteger("--cpus", 64), 2)
  .option("--scratch <size>", "tmpfs size of the writable layer, e.g. 75% or 3G", "75%")
  .option("-v, --verbose", "show kernel messages, init timings and the total time", false)
  .argument("<command...>", "the command to run inside (put -- before it)")
  .showHelpAfterError()
  .passThroughOptions();

program.parse(process.argv);
const options = program.opts<{ timeout: number; mem: number; cpus: number; scratch: string; verbose: boolean }>();
if (!/^\d+(%|[KMG])?$/.test(options.scratch)) {
  console.error(`nested-kvm: --scratch must look like 75% or 3G, got '${options.scratch}'`);
  process.exit(2);
}

let run;
try {
  run = startNested({
    command: program.args,
    timeoutSeconds: options.timeout,
    memoryMiB: options.mem,
    cpus: options.cpus,
    scratch: options.scratch,
    verbose: options.verbose,
  });
} catch (error) {
  console.error(`nested-kvm: ${(error as Error).message}`);
  process.exit(EXIT_HARNESS_ERROR);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => run.cancel(signal));
const result = await run.result;
process.exitCode = result.exitCode;
