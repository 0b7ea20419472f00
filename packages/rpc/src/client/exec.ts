/**
 * client.exec(): runs a process in the guest and exposes it like a Node child process — stdin
 * as a Writable, stdout/stderr as Readables (backpressure reaches the guest through stream
 * credit), and a promise of the exit. Errors (spawn failure, deadline, cancel, connection loss)
 * reject `exit`; stdout/stderr then simply end.
 */
import { Readable, Writable } from "node:stream";
import { RpcError } from "../errors.js";
import { asBuffer } from "../frame/encode.js";
import type { Connection } from "../mux/connection.js";
import type { RpcStream } from "../mux/stream.js";
import { pb } from "../proto.js";
import { signalName, signalNumber } from "./signals.js";

export interface ExecOptions {
  argv: string[];
  /** Extra environment, applied over the agent's base environment. */
  env?: Record<string, string> | string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  tty?: boolean;
  rows?: number;
  cols?: number;
  /** false: the process gets /dev/null as stdin and `stdin` is already ended. Default true. */
  stdin?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ExecExit {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  /** e.g. "SIGKILL" when killed by a signal, else null. */
  signal: string | null;
}

export interface ExecProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the guest pid once the process started; rejects like exit. */
  pid: Promise<number>;
  exit: Promise<ExecExit>;
  kill(sig?: string | number): Promise<void>;
  resize(rows: number, cols: number): Promise<void>;
}

function validate(options: ExecOptions): string[] {
  const { argv } = options;
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string")) {
    throw new TypeError(`exec: argv must be a non-empty array of strings, got ${JSON.stringify(argv)}`);
  }
  for (const [name, v] of [["uid", options.uid], ["gid", options.gid], ["rows", options.rows], ["cols", options.cols]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff)) throw new RangeError(`exec: ${name} ${v} must be an integer in 0..2^32-1`);
  }
  const env = options.env ?? [];
  const list = Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
  for (const e of list) {
    if (typeof e !== "string" || !/^[^=\0]+=/.test(e)) throw new TypeError(`exec: env entry ${JSON.stringify(e)} must look like KEY=VALUE`);
  }
  return list;
}

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length; off += size) out.push(buf.subarray(off, off + size));
  return out;
}

export function startExec(conn: Connection, options: ExecOptions): ExecProcess {
  const env = validate(options);
  const wantsStdin = options.stdin !== false;
  const stdinEofMessage = conn.peer.capabilities.includes("exec.stdin_eof");
  const what = `exec ${options.argv[0]}`;
  const stream: RpcStream = conn.open(
    {
      exec: {
        argv: options.argv,
        env,
        cwd: options.cwd ?? "",
        uid: options.uid,
        gid: options.gid,
        tty: options.tty ?? false,
        rows: options.rows ?? 0,
        cols: options.cols ?? 0,
        stdinOpen: wantsStdin,
      },
    },
    // No FIN even without stdin: after CLOSE only WINDOW and RESET may follow, and kill()/resize()
    // must still work. stdinOpen=false already tells the agent; the host closes once the exit came
    // (and stdin's end is a StdinEof message, not CLOSE, for agents with "exec.stdin_eof").
    { fin: false, timeoutMs: options.timeoutMs, signal: options.signal, what },
  );

  let resumeOut: (() => void) | undefined;
  const makeReadable = () =>
    new Readable({
      read() {
        const r = resumeOut;
        resumeOut = undefined;
        r?.();
      },
    });
  const stdout = makeReadable();
  const stderr = makeReadable();

  const stdin = new Writable({
    write(chunk: Buffer, _enc, cb) {
      // Copied: the Writable contract lets the caller reuse chunk once cb runs, which can be
      // before the socket has flushed it (DATA payloads are written without a copy).
      const own = Buffer.from(chunk);
      Promise.all(chunks(own, stream.maxChunk).map((data) => stream.send({ stdinData: { data } }))).then(() => cb(), cb);
    },
    final(cb) {
      if (!wantsStdin) return cb();
      // EOF as a message where the agent knows it, so kill() and resize() still reach the process
      // after stdin ended (a CLOSE would end everything the host may send).
      const eof = stdinEofMessage ? stream.send({ stdinEof: {} }) : stream.close();
      eof.then(() => cb(), cb);
    },
  });
  // Writing to a finished process is not an error worth crashing for: swallow, exit tells the story.
  stdin.on("error", () => undefined);
  if (!wantsStdin) stdin.end();

  let resolvePid!: (pid: number) => void;
  let rejectPid!: (e: unknown) => void;
  const pid = new Promise<number>((res, rej) => ((resolvePid = res), (rejectPid = rej)));
  pid.catch(() => undefined);

  const exit = (async (): Promise<ExecExit> => {
    let result: ExecExit | undefined;
    try {
      for (;;) {
        const msg = await stream.read();
        if (msg === null) break;
        switch (msg.body) {
          case "started":
            resolvePid(msg.started!.pid ?? 0);
            break;
          case "stdoutData":
          case "stderrData": {
            const target = msg.body === "stdoutData" ? stdout : stderr;
            const data = (msg.body === "stdoutData" ? msg.stdoutData : msg.stderrData)!.data;
            // A full Readable stops this loop, so no credit goes back and the guest must wait.
            if (!target.push(asBuffer(data))) await new Promise<void>((r) => (resumeOut = r));
            break;
          }
          case "exit": {
            const e = msg.exit as InstanceType<typeof pb.ExecExit>;
            result = e.status === "signal" ? { code: null, signal: signalName(e.signal ?? 0) } : { code: e.code ?? 0, signal: null };
            break;
          }
          default:
            break; // messages for other calls: ignored
        }
      }
      if (!result) throw new RpcError("PROTOCOL_ERROR", `${what}: the agent closed the stream without an exit status`, { streamId: stream.id });
      return result;
    } catch (err) {
      rejectPid(err);
      throw err;
    } finally {
      stdout.push(null);
      stderr.push(null);
      if (!stdin.writableFinished) stdin.destroy();
      // The exit came (or the stream failed): the host's side is done, whatever stdin did.
      stream.close().catch(() => undefined);
    }
  })();
  exit.catch(() => undefined); // handled by whoever awaits it; never an unhandled rejection

  return {
    stdin,
    stdout,
    stderr,
    pid,
    exit,
    kill: (sig = "SIGTERM") => stream.send({ signal: { number: signalNumber(sig) } }),
    resize: (rows, cols) => stream.send({ resize: { rows, cols } }),
  };
}
