/** `moat stop NAME`: power a sandbox off through its agent (force after --timeout); one already down is left as it is. */
import { Command } from "commander";
import { Sandbox } from "@moat/core";
import type { CliContext } from "../context.js";
import { integerFrom, sandboxContext } from "../sandbox/options.js";

export function stopCommand(context: CliContext): Command {
  return new Command("stop")
    .description("stop a running sandbox (its state is kept)")
    .argument("<name>", "sandbox name")
    .option("--timeout <seconds>", "force it off after this many seconds", integerFrom(1), 15)
    .action(async (name: string, options: { timeout: number }) => {
      const sandbox = await Sandbox.get(name, sandboxContext(context));
      // Like docker stop, nothing to do is no failure (a sandbox starting or stopping is, from stop()).
      if (!(await sandbox.stop({ timeoutMs: options.timeout * 1000 }))) {
        context.stderr(`moat: sandbox "${name}" is not running (${sandbox.status}); nothing to stop\n`);
      }
    });
}
