/** `moat start NAME`: boot a stopped (or crashed) sandbox; its writable disk is kept. */
import { Command } from "commander";
import { Sandbox } from "@moat/core";
import type { CliContext } from "../context.js";
import { sandboxContext } from "../sandbox/options.js";

export function startCommand(context: CliContext): Command {
  return new Command("start")
    .description("start a stopped sandbox")
    .argument("<name>", "sandbox name")
    .action(async (name: string) => {
      const sandbox = await Sandbox.get(name, sandboxContext(context));
      await sandbox.start();
    });
}
