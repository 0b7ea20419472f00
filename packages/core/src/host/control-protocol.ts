/**
 * The control socket of a VMM host process: one request line per connection, in the spirit of
 * Firecracker's hybrid vsock.
 *
 *   CONNECT <port>\n  → OK\n, then the connection carries raw bytes to and from that guest port
 *   STATUS\n          → OK <json HostStatus>\n
 *   STOP <ms>\n       → (graceful stop, force after ms) OK <json MachineExit>\n
 *   KILL\n            → OK <json MachineExit>\n
 * Any failure: ERR <message>\n and the connection closes.
 */
import type { MachineExit } from "@moat/backend-api";
import { type Socket, connect } from "node:net";
import type { Duplex } from "node:stream";

export interface HostStatus {
  pid: number;
  backend: string;
  startedAt: string;
  state: string;
}

export type ControlRequest =
  | { op: "CONNECT"; port: number }
  | { op: "STATUS" }
  | { op: "STOP"; timeoutMs: number }
  | { op: "KILL" };

const MAX_LINE = 256;

export function parseControlRequest(line: string): ControlRequest | string {
  const [op, arg, ...rest] = line.trim().split(" ");
  if (rest.length > 0) return `too many words in ${JSON.stringify(line)}`;
  switch (op) {
    case "CONNECT": {
      const port = Number(arg);
      return Number.isInteger(port) && port > 0 && port < 2 ** 32 ? { op, port } : `bad port ${JSON.stringify(arg)}`;
    }
    case "STATUS":
    case "KILL":
      return { op };
    case "STOP": {
      const timeoutMs = arg === undefined ? 15_000 : Number(arg);
      return Number.isInteger(timeoutMs) && timeoutMs >= 0 ? { op, timeoutMs } : `bad timeout ${JSON.stringify(arg)}`;
    }
    default:
      return `unknown request ${JSON.stringify(op)}`;
  }
}

/** Reads one "\n"-terminated line from a socket without consuming bytes after it. */
export function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl >= 0) {
        cleanup();
        const rest = buf.subarray(nl + 1);
        if (rest.length > 0) socket.unshift(rest);
        resolve(buf.subarray(0, nl).toString("utf8"));
      } else if (buf.length > MAX_LINE) {
        cleanup();
        reject(new Error(`control line longer than ${MAX_LINE} bytes`));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error("control connection closed before a full line"));
    };
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
      socket.pause();
    };
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onEnd);
  });
}

export class ControlError extends Error {
  override readonly name = "ControlError";
}

async function request(socketPath: string, line: string): Promise<{ socket: Socket; reply: string }> {
  const socket = connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(`${line}\n`);
  const reply = await readLine(socket);
  if (reply.startsWith("ERR ")) {
    socket.destroy();
    throw new ControlError(reply.slice(4));
  }
  if (!reply.startsWith("OK")) {
    socket.destroy();
    throw new ControlError(`unexpected reply ${JSON.stringify(reply)}`);
  }
  return { socket, reply: reply.slice(2).trim() };
}

/** Client side: opens a byte stream to a guest port through the host process. */
export async function controlConnect(socketPath: string, port: number): Promise<Duplex> {
  const { socket } = await request(socketPath, `CONNECT ${port}`);
  socket.resume();
  return socket;
}

export async function controlCall<T>(socketPath: string, line: "STATUS" | "KILL" | `STOP ${number}`): Promise<T> {
  const { socket, reply } = await request(socketPath, line);
  socket.destroy();
  return JSON.parse(reply) as T;
}

export type { MachineExit };
