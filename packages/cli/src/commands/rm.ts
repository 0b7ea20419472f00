/** `moat rm NAME...`: remove sandboxes and their disks; a running one is stopped first (--force: killed). */
import { Command } from "commander";
import { Sandbox } from "@moat/core";
import type { CliContext } from "../context.js";
import { sandboxContext } from "../sandbox/options.js";

export function rmCommand(context: CliContext): Command {
  return new Command("rm")
    .description("remove sandboxes (their writable disk and logs go too)")
    .argument("<names...>", "sandbox names")
    .option("-f, --force", "kill running sandboxes instead of stopping them; also removes a sandbox whose state is broken")
    .action(async (names: string[], options: { force?: boolean }) => {
      for (const name of names) {
        const sandbox = await Sandbox.get(name, sandboxContext(context)).catch(async (err: unknown) => {
          // A sandbox whose state is broken can still be removed with --force.
          if (options.force && (err as { code?: string }).code === "BROKEN_STATE") return undefined;
          throw err;
        });
        if (sandbox) await sandbox.remove({ force: Boolean(options.force) });
        else await Sandbox.removeBroken(name, sandboxContext(context));
      }
    });
}
