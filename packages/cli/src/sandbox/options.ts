/** Parsing and checking the options sandbox commands share (-e K=V, --cpus, --memory). */
import { InvalidArgumentError } from "commander";
import { SANDBOX_LIMITS, SandboxError, SandboxErrorCode, type SandboxContext } from "@moat/core";
import type { CliContext } from "../context.js";

/** commander collector for repeatable `-e KEY=VALUE`. */
export function collectEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value.slice(0, eq))) {
    throw new InvalidArgumentError("Write -e KEY=VALUE, KEY made of letters, digits and _ (not starting with a digit).");
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** commander parser for a whole number from min to max. */
export function integerFrom(min: number, max?: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < min || (max !== undefined && n > max)) {
      throw new InvalidArgumentError(max === undefined ? `It must be a whole number of ${min} or more.` : `It must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** `--cpus`: within what a sandbox may ask for. */
export const cpuCount = integerFrom(SANDBOX_LIMITS.minCpus, SANDBOX_LIMITS.maxCpus);

/** "2G", "512M", "1024" (MiB) → MiB, within what a sandbox may ask for. */
export function memoryMiB(value: string): number {
  const m = /^(\d+)([MmGg]?)(i?[Bb])?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError("It is not a size: write e.g. 1024, 512M or 2G.");
  const mib = m[2]?.toLowerCase() === "g" ? Number(m[1]) * 1024 : Number(m[1]);
  const { minMemoryMiB, maxMemoryMiB } = SANDBOX_LIMITS;
  if (mib < minMemoryMiB || mib > maxMemoryMiB) throw new InvalidArgumentError(`It must be from ${minMemoryMiB}M to ${maxMemoryMiB / 1024}G.`);
  return mib;
}

export function sandboxContext(context: CliContext): SandboxContext {
  return {
    env: context.env as NodeJS.ProcessEnv,
    onWarning: (message) => context.stderr(`${message}\n`),
  };
}

export function requireCommand(argv: string[], usage: string): string[] {
  if (argv.length === 0) {
    throw new SandboxError(SandboxErrorCode.INVALID_OPTION, "no command given", { fix: `write the command after --, e.g. ${usage}` });
  }
  return argv;
}

/**
 * Where the user ran moat: the working directory, except under `pnpm moat ...` from the repo, where
 * pnpm runs the script at the workspace root and says where the user was in INIT_CWD. (INIT_CWD alone
 * is not enough: it leaks into every process a pnpm script starts.) Relative host paths resolve here.
 */
export function invocationDir(env: CliContext["env"]): string {
  return env.npm_lifecycle_event === "moat" && env.INIT_CWD ? env.INIT_CWD : process.cwd();
}
