/**
 * `moat run [options] [-- CMD...]`: create a sandbox, make the current directory available at the
 * same path in the guest, run CMD (or an interactive shell with a tty), bring changed files back,
 * and exit with the command's status. A sandbox without --name is disposable: removed afterwards.
 * A named one is stopped and kept (moat start NAME brings it back) unless --rm is given.
 */
import { Command, Option } from "commander";
import { Sandbox, copyWorkspaceIn, copyWorkspaceOut } from "@moat/core";
import type { CliContext } from "../context.js";
import { attach } from "../sandbox/exec-io.js";
import { collectEnv, cpuCount, invocationDir, memoryMiB, sandboxContext } from "../sandbox/options.js";

interface RunOptions {
  name?: string;
  image?: string;
  backend?: string;
  cpus?: number;
  memory?: number;
  disk?: string;
  allowBroad?: boolean;
  rm?: boolean;
  env?: Record<string, string>;
  workspace: string | false;
  tty?: boolean;
  interactive?: boolean;
}

export function runCommand(context: CliContext): Command {
  return new Command("run")
    .description("run a command (default: an interactive shell) in a new sandbox")
    .argument("[command...]", "command and arguments, after --")
    .option("--name <name>", "name the sandbox and keep it (stopped) after the command; unnamed sandboxes are removed")
    .option("--image <flavour>", "guest image flavour", "base")
    .option("--backend <name>", "hypervisor backend (kvm, qemu, ...; default: the best available)")
    .option("--cpus <n>", "virtual CPUs, 1 to 64 (default: the policy's resources.cpus, 2)", cpuCount)
    .option("--memory <size>", "guest memory, e.g. 1024, 512M, 2G (default: the policy's resources.memory, 2G)", memoryMiB)
    .option("--disk <size>", "writable disk size, e.g. 20GiB (default: the policy's resources.disk, 10 GiB)")
    .option("--rm", "remove the sandbox when the command ends, even a named one")
    .option("-e, --env <KEY=VALUE>", "set a guest environment variable (repeatable)", collectEnv)
    .option("-w, --workspace <dir>", "host directory shown at the same path in the guest (default: the current directory)")
    .option("--no-workspace", "do not copy a workspace in")
    .option("--allow-broad", "allow a read-write workspace of / or the home directory (the policy's files.allowBroad)")
    .option("-i, --interactive", "forward stdin even when it is a terminal")
    .addOption(new Option("-t, --tty", "allocate a terminal (default: when stdin is one and no command is given)"))
    .addHelpText("after", "\nExamples:\n  moat run --rm -- uname -a\n  moat run --name dev -e FOO=bar -- make test\n\nExit status: the command's (128+N when it dies of signal N).")
    .action(async (command: string[], options: RunOptions) => {
      const ctx = sandboxContext(context);
      const disposable = Boolean(options.rm) || !options.name;
      const workspaceDir = options.workspace === false ? undefined : (options.workspace ?? invocationDir(context.env));
      const argv = command.length > 0 ? command : ["/bin/bash", "-l"];
      const tty = options.tty ?? (command.length === 0 && Boolean(process.stdin.isTTY));
      const sandbox = await Sandbox.create({
        ...ctx,
        ...(options.name ? { name: options.name } : {}),
        ...(options.image ? { image: options.image } : {}),
        ...(options.backend ? { backend: options.backend } : {}),
        ...(options.cpus ? { cpus: options.cpus } : {}),
        ...(options.memory ? { memoryMiB: options.memory } : {}),
        ...(workspaceDir ? { workspace: workspaceDir } : {}),
        policyFlags: { ...(options.disk ? { disk: options.disk } : {}), ...(options.allowBroad ? { allowBroad: true } : {}) },
        guestEnv: options.env ?? {},
        ephemeral: disposable,
      });
      let status = 1;
      try {
        // The file policy create checked decides what of the workspace is copied in and back.
        const ws = workspaceDir && sandbox.workspaceRules ? { dir: workspaceDir, rules: sandbox.workspaceRules } : undefined;
        if (ws) await copyWorkspaceIn(sandbox, ws.dir, ws.rules);
        const stdin = tty || Boolean(options.interactive) || !process.stdin.isTTY;
        const proc = await sandbox.exec(argv, {
          tty,
          ...(tty ? { rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 } : {}),
          stdin,
        });
        status = await attach(proc, { tty, stdin });
        if (ws) {
          const { refused } = await copyWorkspaceOut(sandbox, ws.dir, ws.rules);
          if (refused.length > 0) ctx.onWarning?.(`moat: not copied back (read-only or hidden by policy): ${sample(refused, 5)}`);
        }
      } finally {
        if (disposable) await sandbox.remove({ force: true });
        else await sandbox.stop().catch(() => sandbox.kill());
      }
      process.exitCode = status;
    });
}

/** "a, b, c" or, past `max` items, "a, b, c and 4 more". */
function sample(items: string[], max: number): string {
  const shown = items.slice(0, max).join(", ");
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
