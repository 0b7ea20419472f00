/**
 * Signal names ↔ Linux signal numbers. The guest is Linux, so the wire uses Linux numbering
 * whatever the host OS (macOS numbers differ), and this table, not os.constants, converts.
 */
const linux: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
};
const byNumber = new Map(Object.entries(linux).map(([k, v]) => [v, k]));

/** "SIGTERM" | "TERM" | 15 → 15. Throws a RangeError naming the value for anything else. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === "number") {
    if (Number.isInteger(sig) && sig >= 1 && sig <= 64) return sig;
    throw new RangeError(`signal ${sig} is not a Linux signal number (1..64)`);
  }
  const name = sig.toUpperCase().startsWith("SIG") ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = linux[name];
  if (n === undefined) throw new RangeError(`unknown signal "${sig}": use a name like "SIGTERM" or a number`);
  return n;
}

/** 9 → "SIGKILL"; real-time and unknown numbers → "SIG<n>". */
export function signalName(n: number): string {
  return byNumber.get(n) ?? `SIG${n}`;
}
