/**
 * HELLO handling (PROTOCOL.md §3): building our HELLO, checking the peer's, and choosing the
 * protocol version both speak.
 */
import { RpcError, VersionMismatchError } from "../errors.js";
import {
  DEFAULT_INITIAL_WINDOW,
  DEFAULT_MAX_FRAME_PAYLOAD,
  HARD_MAX_FRAME_PAYLOAD,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
} from "../frame/constants.js";
import { pb, type IHello } from "../proto.js";

export type Role = "host" | "guest";

/** What we learned from the peer's HELLO. */
export interface PeerInfo {
  role: Role;
  protocolVersion: number;
  softwareVersion: string;
  capabilities: string[];
  /** Largest frame payload the peer accepts. */
  maxFramePayload: number;
  /** Credit the peer grants per stream for DATA we send. */
  initialWindow: number;
}

export interface HelloOptions {
  role: Role;
  softwareVersion?: string;
  capabilities?: string[];
  maxFramePayload?: number;
  initialWindow?: number;
  minProtocolVersion?: number;
  maxProtocolVersion?: number;
}

export interface LocalLimits {
  maxFramePayload: number;
  initialWindow: number;
}

/** Validates local options and returns the HELLO to send plus the limits it announces. */
export function buildHello(options: HelloOptions): { hello: IHello; limits: LocalLimits } {
  const maxFramePayload = options.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD;
  const initialWindow = options.initialWindow ?? DEFAULT_INITIAL_WINDOW;
  if (!Number.isInteger(maxFramePayload) || maxFramePayload < 64 || maxFramePayload > HARD_MAX_FRAME_PAYLOAD) {
    throw new RangeError(`maxFramePayload ${maxFramePayload} must be an integer in 64..${HARD_MAX_FRAME_PAYLOAD}`);
  }
  if (!Number.isInteger(initialWindow) || initialWindow < maxFramePayload || initialWindow > 0x7fff_ffff) {
    throw new RangeError(`initialWindow ${initialWindow} must be an integer >= maxFramePayload (${maxFramePayload}) and < 2^31`);
  }
  const hello: IHello = {
    maxProtocolVersion: options.maxProtocolVersion ?? PROTOCOL_VERSION,
    minProtocolVersion: options.minProtocolVersion ?? MIN_PROTOCOL_VERSION,
    softwareVersion: options.softwareVersion ?? "@moat/rpc",
    capabilities: options.capabilities ?? [],
    maxFramePayload,
    initialWindow,
    role: options.role === "host" ? pb.Role.ROLE_HOST : pb.Role.ROLE_GUEST,
  };
  return { hello, limits: { maxFramePayload, initialWindow } };
}

/** Checks the peer's HELLO against ours; throws VersionMismatchError or a PROTOCOL_ERROR RpcError. */
export function acceptPeerHello(ours: IHello, payload: Uint8Array, expectedRole: Role): PeerInfo {
  let peer: ReturnType<typeof pb.Hello.decode>;
  try {
    peer = pb.Hello.decode(payload);
  } catch (err) {
    throw new RpcError("PROTOCOL_ERROR", `HELLO payload is not a valid Hello message: ${(err as Error).message}`, { cause: err });
  }
  const peerRole: Role | undefined = peer.role === pb.Role.ROLE_HOST ? "host" : peer.role === pb.Role.ROLE_GUEST ? "guest" : undefined;
  if (peerRole !== expectedRole) {
    throw new RpcError("PROTOCOL_ERROR", `HELLO from a peer with role ${peerRole ?? "unspecified"}, expected ${expectedRole}: both ends think they are the ${peerRole ?? "?"}`);
  }
  const version = negotiateVersion(ours.minProtocolVersion ?? 1, ours.maxProtocolVersion ?? 1, peer.minProtocolVersion, peer.maxProtocolVersion);
  if (version === 0) {
    const fix = expectedRole === "guest" ? "update the guest image (agent) to match the host" : "update moat on the host";
    throw new VersionMismatchError(
      `no common protocol version: this side speaks ${ours.minProtocolVersion}..${ours.maxProtocolVersion}, ` +
        `the ${expectedRole} (${peer.softwareVersion || "unknown software"}) speaks ${peer.minProtocolVersion}..${peer.maxProtocolVersion}: ${fix}`,
    );
  }
  const maxFramePayload = peer.maxFramePayload || DEFAULT_MAX_FRAME_PAYLOAD;
  const initialWindow = peer.initialWindow || DEFAULT_INITIAL_WINDOW;
  if (maxFramePayload > HARD_MAX_FRAME_PAYLOAD || initialWindow < maxFramePayload) {
    throw new RpcError("PROTOCOL_ERROR", `peer HELLO limits invalid: max_frame_payload ${maxFramePayload} (hard max ${HARD_MAX_FRAME_PAYLOAD}), initial_window ${initialWindow} (must be >= max_frame_payload)`);
  }
  return {
    role: peerRole,
    protocolVersion: version,
    softwareVersion: peer.softwareVersion,
    capabilities: [...peer.capabilities],
    maxFramePayload,
    initialWindow,
  };
}

/** The highest version in both [min, max] ranges, or 0 if they do not overlap. */
export function negotiateVersion(ourMin: number, ourMax: number, peerMin: number, peerMax: number): number {
  const v = Math.min(ourMax, peerMax);
  return v >= Math.max(ourMin, peerMin) && v > 0 ? v : 0;
}
