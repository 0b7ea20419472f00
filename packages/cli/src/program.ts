/** Builds the `moat` commander program from the command list; errors are printed by the entry point. */
import { Command } from "commander";
import { COMMANDS } from "./commands/index.js";
import type { CliContext } from "./context.js";

export function createProgram(context: CliContext): Command {
  // The parser's own errors ("error: unknown option ...") speak like moat's: "moat: ...".
  const output = {
    writeOut: context.stdout,
    writeErr: context.stderr,
    outputError: (text: string, write: (s: string) => void) => write(text.replace(/^error: /, "moat: ")),
  };
  const program = new Command("moat")
    .description("run AI coding agents in disposable microVM sandboxes")
    .version(context.version, "-V, --version")
    .option("--debug", "on errors, also print the stack and the underlying cause (or set MOAT_DEBUG=1)")
    .showHelpAfterError("fix: see the commands with: moat --help")
    .configureOutput(output);
  // addCommand() does not pass these settings on, so each command gets them: a parse error names its usage.
  for (const make of COMMANDS) {
    const command = make(context);
    program.addCommand(
      command.showHelpAfterError(`fix: see the usage with: moat ${command.name()} --help`).configureOutput(output),
    );
  }
  return program;
}
