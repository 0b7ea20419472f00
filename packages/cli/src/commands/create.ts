/** `moat create NAME`: create a named, persistent sandbox and boot it. */
import { Command } from "commander";
import { Sandbox } from "@moat/core";
import type { CliContext } from "../context.js";
import { collectEnv, cpuCount, memoryMiB, sandboxContext } from "../sandbox/options.js";

export function createCommand(context: CliContext): Command {
  return new Command("create")
    .description("create a named sandbox and start it (it persists until moat rm)")
    .argument("<name>", "sandbox name")
    .option("--image <flavour>", "guest image flavour", "base")
    .option("--backend <name>", "hypervisor backend (default: the best available)")
    .option("--cpus <n>", "virtual CPUs, 1 to 64 (default: the policy's resources.cpus, 2)", cpuCount)
    .option("--memory <size>", "guest memory, e.g. 1024, 512M, 2G (default: the policy's resources.memory, 2G)", memoryMiB)
    .option("--disk <size>", "writable disk size, e.g. 20GiB (default: the policy's resources.disk, 10 GiB)")
    .option("-e, --env <KEY=VALUE>", "guest environment variable for every exec (repeatable)", collectEnv)
    .option("--no-start", "only create; boot later with moat start")
    .action(async (name: string, options: { image?: string; backend?: string; cpus?: number; memory?: number; disk?: string; env?: Record<string, string>; start: boolean }) => {
      const sandbox = await Sandbox.create({
        ...sandboxContext(context),
        name,
        ...(options.image ? { image: options.image } : {}),
        ...(options.backend ? { backend: options.backend } : {}),
        ...(options.cpus ? { cpus: options.cpus } : {}),
        ...(options.memory ? { memoryMiB: options.memory } : {}),
        ...(options.disk ? { policyFlags: { disk: options.disk } } : {}),
        guestEnv: options.env ?? {},
        start: options.start,
      });
      context.stdout(`${sandbox.name}\n`);
    });
}
