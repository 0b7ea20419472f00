/**
 * Connecting a guest process to this terminal: stdin/stdout/stderr piped (raw mode and window
 * resizes when a tty is asked for), Ctrl-C forwarded to the guest process, and the guest's exit
 * turned into ours (a signal N becomes 128+N, like a shell).
 */
import { type ExecProcess, signalNumber } from "@moat/rpc";

export function exitStatus(exit: { code: number | null; signal: string | null }): number {
  if (exit.code !== null) return exit.code;
  return 128 + (exit.signal ? signalNumber(exit.signal) : 0);
}

export async function attach(proc: ExecProcess, options: { tty: boolean; stdin: boolean }): Promise<number> {
  const stdin = process.stdin;
  const restore: Array<() => void> = [];
  if (options.tty && stdin.isTTY) {
    stdin.setRawMode(true);
    restore.push(() => stdin.setRawMode(false));
    const resize = () => void proc.resize(process.stdout.rows ?? 24, process.stdout.columns ?? 80).catch(() => undefined);
    process.stdout.on("resize", resize);
    restore.push(() => process.stdout.off("resize", resize));
  } else {
    const onSigint = () => void proc.kill("SIGINT").catch(() => undefined);
    const onSigterm = () => void proc.kill("SIGTERM").catch(() => undefined);
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    restore.push(() => process.off("SIGINT", onSigint), () => process.off("SIGTERM", onSigterm));
  }
  if (options.stdin) {
    stdin.pipe(proc.stdin);
    restore.push(() => {
      stdin.unpipe(proc.stdin);
      stdin.pause();
    });
  }
  proc.stdout.pipe(process.stdout, { end: false });
  proc.stderr.pipe(process.stderr, { end: false });
  try {
    const exit = await proc.exit;
    await Promise.all([ended(proc.stdout), ended(proc.stderr)]);
    return exitStatus(exit);
  } finally {
    for (const undo of restore) undo();
  }
}

function ended(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as { readableEnded?: boolean }).readableEnded) return resolve();
    stream.once("end", () => resolve());
    stream.once("close", () => resolve());
    stream.once("error", () => resolve());
  });
}
