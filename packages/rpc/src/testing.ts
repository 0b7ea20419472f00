/** `@moat/rpc/testing`: tools for testing RPC endpoints at the frame level (never for production). */
export { RawPeer } from "./testing/raw-peer.js";
