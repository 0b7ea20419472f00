/** `moat exec NAME -- CMD...`: run a command in a running sandbox; exits with its status. */
import { Command } from "commander";
import { Sandbox, SandboxError, SandboxErrorCode } from "@moat/core";
import { RpcError } from "@moat/rpc";
import type { CliContext } from "../context.js";
import { attach } from "../sandbox/exec-io.js";
import { collectEnv, requireCommand, sandboxContext } from "../sandbox/options.js";

export function execCommand(context: CliContext): Command {
  return new Command("exec")
    .description("run a command in a running sandbox")
    .argument("<name>", "sandbox name")
    .argument("[command...]", "command and arguments, after --")
    .option("-e, --env <KEY=VALUE>", "environment variable (repeatable)", collectEnv)
    .option("-w, --cwd <dir>", "working directory in the guest")
    .option("-u, --user <uid[:gid]>", "run as this numeric user (and group)")
    .option("-i, --interactive", "forward stdin even when it is a terminal")
    .option("-t, --tty", "allocate a terminal")
    .addHelpText("after", "\nExample:\n  moat exec dev -- ls -la /root\n\nExit status: the command's (128+N when it dies of signal N).")
    .action(async (name: string, command: string[], options: { env?: Record<string, string>; cwd?: string; user?: string; interactive?: boolean; tty?: boolean }) => {
      const argv = requireCommand(command, `moat exec ${name} -- ls /`);
      const sandbox = await Sandbox.get(name, sandboxContext(context));
      const [uid, gid] = (options.user ?? "").split(":").map((v) => (v === "" ? undefined : Number(v)));
      const tty = Boolean(options.tty);
      const stdin = tty || Boolean(options.interactive) || !process.stdin.isTTY;
      const proc = await sandbox.exec(argv, {
        tty,
        stdin,
        ...(tty ? { rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(uid !== undefined ? { uid } : {}),
        ...(gid !== undefined ? { gid } : {}),
      });
      process.exitCode = await attach(proc, { tty, stdin }).catch((err: unknown) => {
        // The agent could not enter -w's directory: say where to look, as cp does.
        if (options.cwd && err instanceof RpcError && err.code === "SPAWN_FAILED" && err.message.startsWith("chdir ")) {
          throw new SandboxError(SandboxErrorCode.INVALID_OPTION, err.message, { fix: `look at what is there: moat exec ${name} -- ls -ld ${options.cwd}` });
        }
        throw err;
      });
    });
}
