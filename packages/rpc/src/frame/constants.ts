/** Wire constants of protocol v1 (PROTOCOL.md §1, §2, §9). The C side mirrors them in moat_rpc_frame.h. */

export const HEADER_SIZE = 12;
export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;
export const DEFAULT_MAX_FRAME_PAYLOAD = 131_072;
export const HARD_MAX_FRAME_PAYLOAD = 1_048_576;
export const DEFAULT_INITIAL_WINDOW = 262_144;
/** Largest Chunk.data: 65535 = nanopb PB_SIZE_MAX (the guest's nanopb runtime has a 16-bit pb_size_t). */
export const MAX_CHUNK = 65_535;
export const MAX_CREDIT = 0x7fff_ffff;
export const AGENT_VSOCK_PORT = 1024;

/** Frame types. */
export const FrameType = {
  HELLO: 1,
  OPEN: 2,
  DATA: 3,
  CLOSE: 4,
  RESET: 5,
  WINDOW: 6,
  ERROR: 7,
} as const;
export type FrameTypeName = keyof typeof FrameType;

/** flags bit 0 on OPEN/DATA: the sender half-closes after this frame. */
export const FLAG_FIN = 0x01;

const names = new Map<number, FrameTypeName>(Object.entries(FrameType).map(([k, v]) => [v, k as FrameTypeName]));

/** "DATA" for 3; `UNKNOWN(200)` for a type protocol v1 does not define. */
export function frameTypeName(type: number): string {
  return names.get(type) ?? `UNKNOWN(${type})`;
}

export function isKnownFrameType(type: number): boolean {
  return names.has(type);
}
