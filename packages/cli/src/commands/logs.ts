/** `moat logs NAME`: the guest's serial console log (kernel and agent messages). */
import { Command } from "commander";
import { createReadStream, existsSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Sandbox } from "@moat/core";
import type { CliContext } from "../context.js";
import { sandboxContext } from "../sandbox/options.js";

export function logsCommand(context: CliContext): Command {
  return new Command("logs")
    .description("print a sandbox's console log")
    .argument("<name>", "sandbox name")
    .action(async (name: string) => {
      const sandbox = await Sandbox.get(name, sandboxContext(context));
      if (!existsSync(sandbox.consoleLogPath)) {
        context.stderr(`moat: sandbox "${name}" has no console log yet (it has not been started)\n`);
        return;
      }
      await pipeline(createReadStream(sandbox.consoleLogPath), process.stdout, { end: false });
    });
}
