/**
 * Many host connections over one agent connection (PROTOCOL.md §11, "Relays").
 *
 * Some transports give a guest port one byte stream at a time: the QEMU fallback's virtio-serial
 * socket takes a single client, so a second `moat exec` would wait for the first to end. The VMM
 * host process therefore serves every caller of a sandbox through one agent connection and this
 * relay: it says HELLO to the agent once, answers each caller's HELLO with the agent's own, and
 * forwards frames without parsing their payloads, renumbering host-opened stream ids so callers
 * never collide. Flow control stays end to end — each caller must announce the limits the relay
 * announced upstream, so the agent's credit accounting holds for every stream. The agent connection
 * is opened for the first caller and kept until the relay is closed (or the agent ends it, after
 * which the next caller dials again); a caller that goes away resets its open streams (the agent
 * kills their processes, as on a dropped connection).
 */
import type { Duplex } from "node:stream";
import { RpcError, type WireErrorName, errorCodeByName } from "../errors.js";
import { DEFAULT_INITIAL_WINDOW, DEFAULT_MAX_FRAME_PAYLOAD, FLAG_FIN, FrameType, isKnownFrameType } from "../frame/constants.js";
import { type Frame, FrameDecoder } from "../frame/decoder.js";
import { encodeError, encodeHeader, encodeHello, encodeReset } from "../frame/encode.js";
import { type PeerInfo, acceptPeerHello, buildHello, negotiateVersion } from "../mux/hello.js";
import { type IHello, pb } from "../proto.js";

export interface RelayOptions {
  /** Opens a fresh byte stream to the agent (e.g. `() => machine.connect(1024)`). */
  dial: () => Promise<Duplex>;
  /** How long the agent may take to answer HELLO (default 5 s). */
  helloTimeoutMs?: number;
  softwareVersion?: string;
}

/** One host stream: which caller opened it under which id, and which half-closes have been seen. */
interface Route {
  caller: Caller;
  callerId: number;
  upId: number;
  callerDone: boolean;
  agentDone: boolean;
}

interface Caller {
  socket: Duplex;
  decoder: FrameDecoder;
  routes: Map<number, Route>;
  /** The agent connection this caller was greeted on (its streams live there); unset until then. */
  up: Upstream | undefined;
  /** Frames that arrived while its HELLO was being answered, in order. */
  waiting: Frame[] | undefined;
  lastId: number;
}

/** The one agent connection, once its HELLO has been exchanged. */
interface Upstream {
  socket: Duplex;
  decoder: FrameDecoder;
  ours: IHello;
  agent: PeerInfo;
  /** The agent's HELLO frame as it arrived: every caller gets these bytes. */
  agentHello: Buffer;
  routes: Map<number, Route>;
  nextId: number;
  ended: boolean;
}

export class RpcRelay {
  private upstream: Promise<Upstream> | undefined;
  private readonly callers = new Set<Caller>();
  private closed = false;

  constructor(private readonly options: RelayOptions) {}

  /** Callers attached now. */
  get callerCount(): number {
    return this.callers.size;
  }

  /** Opens the agent connection if none is open; rejects (with the dial's or HELLO's error) if it cannot. */
  async ready(): Promise<void> {
    await this.ensureUpstream();
  }

  /**
   * Serves one caller on `socket`: it speaks the protocol as if `socket` went to the agent. Errors
   * reaching the agent reach the caller as a fatal ERROR frame, then its socket is closed.
   */
  attach(socket: Duplex): void {
    const caller: Caller = { socket, decoder: new FrameDecoder(), routes: new Map(), up: undefined, waiting: undefined, lastId: 0 };
    this.callers.add(caller);
    socket.on("data", (chunk: Buffer) => this.fromCaller(caller, chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.detach(caller));
    socket.on("end", () => socket.end());
    if (this.closed) this.failCaller(caller, new RpcError("UNAVAILABLE", "the relay is closed: the sandbox is stopping"));
  }

  /** Ends every caller and the agent connection. */
  close(): void {
    this.closed = true;
    for (const caller of this.callers) caller.socket.destroy();
    void this.dropUpstream();
  }

  private ensureUpstream(): Promise<Upstream> {
    if (this.closed) return Promise.reject(new RpcError("UNAVAILABLE", "the relay is closed: the sandbox is stopping"));
    this.upstream ??= this.openUpstream();
    const opening = this.upstream;
    opening.catch(() => {
      if (this.upstream === opening) this.upstream = undefined;
    });
    return opening;
  }

  private async openUpstream(): Promise<Upstream> {
    const socket = await this.options.dial();
    const { hello: ours, limits } = buildHello({ role: "host", softwareVersion: this.options.softwareVersion ?? "@moat/rpc relay" });
    const decoder = new FrameDecoder({ maxPayload: limits.maxFramePayload });
    return new Promise<Upstream>((resolve, reject) => {
      let up: Upstream | undefined;
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        if (up) this.upstreamEnded(up);
        else reject(err);
      };
      const timer = setTimeout(() => fail(new RpcError("DEADLINE_EXCEEDED", `the agent did not answer HELLO within ${this.options.helloTimeoutMs ?? 5000} ms`)), this.options.helloTimeoutMs ?? 5000);
      socket.on("error", (err) => fail(new RpcError("CONNECTION_CLOSED", `agent connection failed: ${err.message}`, { cause: err })));
      socket.on("close", () => fail(new RpcError("CONNECTION_CLOSED", "the agent closed the connection")));
      socket.on("end", () => fail(new RpcError("CONNECTION_CLOSED", "the agent closed the connection")));
      socket.on("data", (chunk: Buffer) => {
        let frames: Frame[];
        try {
          frames = decoder.push(chunk);
        } catch (err) {
          return fail(err as Error);
        }
        for (const frame of frames) {
          if (up) {
            this.fromAgent(up, frame);
            continue;
          }
          if (frame.type !== FrameType.HELLO) return fail(new RpcError("PROTOCOL_ERROR", `the agent's first frame is type ${frame.type}, not HELLO`));
          try {
            const agent = acceptPeerHello(ours, frame.payload, "guest");
            up = { socket, decoder, ours, agent, agentHello: frameBytes(frame), routes: new Map(), nextId: 1, ended: false };
            decoder.maxPayload = limits.maxFramePayload;
            clearTimeout(timer);
            resolve(up);
          } catch (err) {
            socket.write(encodeError({ code: pb.ErrorCode.ERROR_CODE_VERSION_MISMATCH, message: (err as Error).message, fatal: true }));
            return fail(err as Error);
          }
        }
      });
      socket.write(encodeHello(ours));
    });
  }

  private fromCaller(caller: Caller, chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = caller.decoder.push(chunk);
    } catch (err) {
      return this.failCaller(caller, err as RpcError);
    }
    for (const frame of frames) {
      if (caller.up) this.forwardFromCaller(caller.up, caller, frame);
      else if (caller.waiting) caller.waiting.push(frame);
      else {
        caller.waiting = [];
        void this.greet(caller, frame);
      }
    }
  }

  /** Answers the caller's HELLO with the agent's, once the agent connection is up; then forwards what waited. */
  private async greet(caller: Caller, frame: Frame): Promise<void> {
    if (frame.type !== FrameType.HELLO) return this.failCaller(caller, new RpcError("PROTOCOL_ERROR", `first frame is type ${frame.type}, not HELLO`));
    let up: Upstream;
    try {
      up = await this.ensureUpstream();
    } catch (err) {
      return this.failCaller(caller, err as Error);
    }
    if (caller.socket.destroyed) return;
    if (up.ended) return this.failCaller(caller, new RpcError("CONNECTION_CLOSED", "the agent connection ended while this caller was being greeted"));
    let hello: ReturnType<typeof pb.Hello.decode>;
    try {
      hello = pb.Hello.decode(frame.payload);
    } catch (err) {
      return this.failCaller(caller, new RpcError("PROTOCOL_ERROR", `HELLO payload is not a valid Hello message: ${(err as Error).message}`));
    }
    const version = negotiateVersion(hello.minProtocolVersion, hello.maxProtocolVersion, up.agent.protocolVersion, up.agent.protocolVersion);
    const limits = [hello.maxFramePayload || DEFAULT_MAX_FRAME_PAYLOAD, hello.initialWindow || DEFAULT_INITIAL_WINDOW];
    const relayed = [up.ours.maxFramePayload, up.ours.initialWindow];
    if (version !== 0 && (limits[0] !== relayed[0] || limits[1] !== relayed[1])) {
      return this.failCaller(
        caller,
        new RpcError(
          "PROTOCOL_ERROR",
          `this connection is relayed: announce max_frame_payload ${relayed[0]} and initial_window ${relayed[1]} as the relay did (got ${limits[0]} and ${limits[1]})`,
        ),
      );
    }
    caller.decoder.maxPayload = up.agent.maxFramePayload;
    caller.up = up;
    // The agent's own HELLO: the caller negotiates with the agent's range (a caller that cannot speak
    // the agent's version finds out from it and says so, as on a direct connection).
    caller.socket.write(up.agentHello);
    const waiting = caller.waiting ?? [];
    caller.waiting = undefined;
    for (const f of waiting) this.forwardFromCaller(up, caller, f);
  }

  private forwardFromCaller(up: Upstream, caller: Caller, frame: Frame): void {
    if (up.ended || caller.socket.destroyed) return;
    const fin = (frame.flags & FLAG_FIN) !== 0;
    switch (frame.type) {
      case FrameType.OPEN: {
        if (frame.streamId % 2 !== 1 || frame.streamId <= caller.lastId) {
          caller.socket.write(encodeReset(frame.streamId, { code: pb.ErrorCode.ERROR_CODE_PROTOCOL_ERROR, message: `OPEN stream ${frame.streamId}: host stream ids are odd and increasing` }));
          return;
        }
        caller.lastId = frame.streamId;
        const route: Route = { caller, callerId: frame.streamId, upId: up.nextId, callerDone: fin, agentDone: false };
        up.nextId += 2;
        caller.routes.set(route.callerId, route);
        up.routes.set(route.upId, route);
        return send(up.socket, route.upId, frame);
      }
      case FrameType.DATA:
      case FrameType.CLOSE:
      case FrameType.RESET:
      case FrameType.WINDOW: {
        const route = caller.routes.get(frame.streamId);
        if (!route) return; // a late WINDOW for a finished stream: nobody needs it
        send(up.socket, route.upId, frame);
        if (frame.type === FrameType.RESET) return this.unroute(up, route);
        if (fin || frame.type === FrameType.CLOSE) route.callerDone = true;
        if (route.callerDone && route.agentDone) this.unroute(up, route);
        return;
      }
      case FrameType.ERROR:
      case FrameType.HELLO:
        return; // the caller's view of the agent connection; its own close resets its streams
      default:
        if (!isKnownFrameType(frame.type)) {
          caller.socket.write(encodeError({ code: pb.ErrorCode.ERROR_CODE_UNKNOWN_FRAME_TYPE, message: `unknown frame type ${frame.type}`, frameType: frame.type, streamId: frame.streamId, fatal: false }));
        }
    }
  }

  private fromAgent(up: Upstream, frame: Frame): void {
    switch (frame.type) {
      case FrameType.OPEN:
        // Guest-opened streams (egress) are served by a direct connection's host, not by the relay yet.
        up.socket.write(encodeReset(frame.streamId, { code: pb.ErrorCode.ERROR_CODE_UNIMPLEMENTED, message: "no host service answers guest-opened streams on a relayed connection" }));
        return;
      case FrameType.DATA:
      case FrameType.CLOSE:
      case FrameType.RESET:
      case FrameType.WINDOW: {
        const route = up.routes.get(frame.streamId);
        if (!route) return;
        if (!route.caller.socket.destroyed) send(route.caller.socket, route.callerId, frame);
        if (frame.type === FrameType.RESET) return this.unroute(up, route);
        if ((frame.flags & FLAG_FIN) !== 0 || frame.type === FrameType.CLOSE) route.agentDone = true;
        if (route.callerDone && route.agentDone) this.unroute(up, route);
        return;
      }
      case FrameType.ERROR: {
        let err: ReturnType<typeof pb.ConnError.decode>;
        try {
          err = pb.ConnError.decode(frame.payload);
        } catch {
          return;
        }
        if (err.fatal) return this.upstreamEnded(up, frameBytes(frame));
        const route = up.routes.get(err.streamId);
        if (route && !route.caller.socket.destroyed) route.caller.socket.write(encodeError({ code: err.code, message: err.message, frameType: err.frameType, streamId: route.callerId, fatal: false }));
        return;
      }
      default:
        return;
    }
  }

  private unroute(up: Upstream, route: Route): void {
    up.routes.delete(route.upId);
    route.caller.routes.delete(route.callerId);
  }

  /**
   * A caller went away: its open streams are reset at the agent. The agent connection stays open
   * for the next caller even when this was the last one: a byte stream that is closed and reopened
   * (QEMU's virtio-serial port) can hand the new connection what the agent still wrote to the old.
   */
  private detach(caller: Caller): void {
    if (!this.callers.delete(caller)) return;
    const up = caller.up;
    for (const route of caller.routes.values()) {
      if (up && !up.ended) up.socket.write(encodeReset(route.upId, { code: pb.ErrorCode.ERROR_CODE_CANCELLED, message: "the host-side caller went away" }));
      up?.routes.delete(route.upId);
    }
    caller.routes.clear();
  }

  private async dropUpstream(): Promise<void> {
    const pending = this.upstream;
    this.upstream = undefined;
    const up = await pending?.catch(() => undefined);
    if (up && !up.ended) {
      up.ended = true;
      up.socket.end();
    }
  }

  /**
   * The agent connection ended under us: its callers' connections end too, as a direct one would
   * (after the agent's fatal ERROR frame, if it sent one).
   */
  private upstreamEnded(up: Upstream, lastWords?: Buffer): void {
    if (up.ended) return;
    up.ended = true;
    up.socket.destroy();
    const pending = this.upstream;
    void pending?.then(
      (current) => {
        if (current === up && this.upstream === pending) this.upstream = undefined;
      },
      () => undefined,
    );
    for (const caller of this.callers) {
      if (caller.up !== up) continue;
      if (lastWords) caller.socket.end(lastWords);
      else caller.socket.end();
      setTimeout(() => caller.socket.destroy(), 1000).unref();
    }
  }

  private failCaller(caller: Caller, err: Error): void {
    if (caller.socket.destroyed) return;
    const wire = err instanceof RpcError && err.code in errorCodeByName ? errorCodeByName[err.code as WireErrorName] : undefined;
    const code = wire ?? pb.ErrorCode.ERROR_CODE_UNAVAILABLE;
    caller.socket.end(encodeError({ code, message: err.message, fatal: true }));
    setTimeout(() => caller.socket.destroy(), 1000).unref();
  }
}

/** Forwards a frame under another stream id; the payload is passed on as it is. */
function send(socket: Duplex, streamId: number, frame: Frame): void {
  socket.cork();
  socket.write(encodeHeader(streamId, frame.type, frame.flags, frame.payload.length));
  if (frame.payload.length > 0) socket.write(frame.payload);
  socket.uncork();
}

/** A received frame's bytes as they were on the wire. */
function frameBytes(frame: Frame): Buffer {
  return Buffer.concat([encodeHeader(frame.streamId, frame.type, frame.flags, frame.payload.length), frame.payload]);
}
