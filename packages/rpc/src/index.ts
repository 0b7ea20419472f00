/**
 * @moat/rpc — the host side of moat's vsock RPC: protobuf schema (static code), frame codec,
 * stream multiplexer with credit flow control, the RpcClient, and serving pieces for tests.
 * Wire format: PROTOCOL.md. Guest side (C): c/.
 */
export * from "./frame/constants.js";
export { encodeFrame, encodeHeader, encodeMessageParts, asBuffer, encodeHello, encodeOpen, encodeData, encodeMessage, encodeClose, encodeReset, encodeWindow, encodeError } from "./frame/encode.js";
export { FrameDecoder, type Frame } from "./frame/decoder.js";
export * from "./errors.js";
export { pb } from "./proto.js";
export type { IHello, IOpen, IStreamMessage, IReset, IConnError, IExecRequest, IFileInfo, IHealthResponse, StreamMessage, Open } from "./proto.js";
export { Connection, type ConnectionOptions, type ConnectionStats, type OpenOptions } from "./mux/connection.js";
export { RpcStream } from "./mux/stream.js";
export { negotiateVersion, type PeerInfo, type Role } from "./mux/hello.js";
export { RpcClient, type ConnectOptions, type Health, type RunResult } from "./client/client.js";
export type { ExecOptions, ExecProcess, ExecExit } from "./client/exec.js";
export { FilesApi, type FileStat, type FileKind, type PutOptions, type CallOptions } from "./client/files.js";
export { signalNumber, signalName } from "./client/signals.js";
export { serve, resetWithError, type CallHandlers, type CallHandler, type ServeOptions } from "./server/serve.js";
export { createNodeAgent, type NodeAgentOptions } from "./server/node-agent.js";
export { RpcRelay, type RelayOptions } from "./relay/relay.js";
