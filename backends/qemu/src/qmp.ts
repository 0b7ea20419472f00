/**
 * A minimal QMP (QEMU Machine Protocol) client over QEMU's Unix monitor socket: capability
 * negotiation, commands with replies in order, and events (SHUTDOWN, VSERPORT_CHANGE, ...).
 * QMP is newline-delimited JSON; one command is in flight per request id.
 */
import { EventEmitter } from "node:events";
import { type Socket, connect } from "node:net";

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  private buffer = "";
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  private constructor(private readonly socket: Socket) {
    super();
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("close", () => this.onClose());
    socket.on("error", () => this.onClose());
  }

  /** Connects, waits for the greeting and enters command mode. */
  static async connect(path: string): Promise<QmpClient> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new QmpClient(socket);
    await client.execute("qmp_capabilities");
    return client;
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closed) throw new Error(`QMP connection closed (command ${command})`);
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: { id?: number; return?: unknown; error?: { class: string; desc: string }; event?: string; data?: Record<string, unknown>; QMP?: unknown };
    try {
      msg = JSON.parse(line);
    } catch {
      return; // QMP never sends partial JSON on one line; ignore noise
    }
    if (msg.event) {
      this.emit("event", { event: msg.event, data: msg.data });
      return;
    }
    if (msg.id === undefined) return; // the greeting
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`QMP ${msg.error.class}: ${msg.error.desc}`));
    else waiter.resolve(msg.return);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.pending.values()) w.reject(new Error("QMP connection closed"));
    this.pending.clear();
    this.emit("close");
  }
}
