/** Builds the `moat` commander program from the command list; errors are printed by the entry point. */
import { Command } from "commander";
import { COMMANDS } from "./commands/index.js";
import type { CliContext } from "./context.js";

export function createProgram(context: CliContext): Command {
  const program = new Command("moat")
    .description("run AI coding agents in disposable microVM sandboxes")
    .version(context.version, "-V, --version")
    .option("--debug", "on errors, also print the stack and the underlying cause (or set MOAT_DEBUG=1)")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: context.stdout, writeErr: context.stderr });
  for (const make of COMMANDS) program.addCommand(make(context));
  return program;
}
