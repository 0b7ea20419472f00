/**
 * The golden frames: TS_CASES are encoded here and decoded by the C test (c/test/golden_test.c);
 * C_CASES list what the C encoder writes into test-vectors/c, with the meaning the TS decoder must
 * find. Both sides describe every case independently, so an incompatible change fails both.
 * Cases carry no explicitly-set default values: protobufjs would encode them, nanopb would not,
 * and the C test compares re-encoded bytes.
 */
import { FLAG_FIN, FrameType } from "../src/frame/constants.js";
import { pb } from "../src/proto.js";

export interface VectorCase {
  name: string;
  streamId: number;
  type: number;
  flags: number;
  /** Message type of the payload, or null for an empty/undecodable one. */
  payloadType: "Hello" | "Open" | "StreamMessage" | "Reset" | "WindowUpdate" | "ConnError" | null;
  message?: Record<string, unknown>;
  /** Raw payload for frames whose payload is not a message (unknown type). */
  raw?: number[];
}

const bytes256 = Array.from({ length: 256 }, (_, i) => i);

export const TS_CASES: VectorCase[] = [
  { name: "hello-host", streamId: 0, type: FrameType.HELLO, flags: 0, payloadType: "Hello",
    message: { maxProtocolVersion: 1, minProtocolVersion: 1, softwareVersion: "@moat/rpc/golden", capabilities: ["egress.dial", "egress.dns"], maxFramePayload: 131072, initialWindow: 262144, role: pb.Role.ROLE_HOST } },
  { name: "open-exec", streamId: 1, type: FrameType.OPEN, flags: 0, payloadType: "Open",
    message: { timeoutMs: 30000, exec: { argv: ["sh", "-c", "echo hi"], env: ["A=1", "B=two words"], cwd: "/work", uid: 1000, gid: 0, tty: true, rows: 24, cols: 80, stdinOpen: true } } },
  { name: "open-health-fin", streamId: 3, type: FrameType.OPEN, flags: FLAG_FIN, payloadType: "Open", message: { health: {} } },
  { name: "data-stdin", streamId: 1, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage", message: { stdinData: { data: bytes256 } } },
  { name: "data-resize", streamId: 1, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage", message: { resize: { rows: 50, cols: 132 } } },
  { name: "data-signal", streamId: 1, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage", message: { signal: { number: 15 } } },
  { name: "close", streamId: 1, type: FrameType.CLOSE, flags: 0, payloadType: null },
  { name: "window", streamId: 1, type: FrameType.WINDOW, flags: 0, payloadType: "WindowUpdate", message: { increment: 65536 } },
  { name: "reset-cancel", streamId: 5, type: FrameType.RESET, flags: 0, payloadType: "Reset",
    message: { code: pb.ErrorCode.ERROR_CODE_CANCELLED, message: "exec make: cancelled (user pressed ^C)" } },
  { name: "open-file-put", streamId: 7, type: FrameType.OPEN, flags: 0, payloadType: "Open",
    message: { timeoutMs: 60000, filePut: { path: "/tmp/a b.txt", mode: 0o600, mtimeNs: 1700000000000000000, makeParents: true, uid: 0 } } },
  { name: "data-file-data-fin", streamId: 7, type: FrameType.DATA, flags: FLAG_FIN, payloadType: "StreamMessage", message: { fileData: { data: [...Buffer.from("hello\n")] } } },
  { name: "open-file-get", streamId: 9, type: FrameType.OPEN, flags: FLAG_FIN, payloadType: "Open", message: { fileGet: { path: "/etc/hostname", offset: 10, length: 100 } } },
  { name: "open-stat", streamId: 11, type: FrameType.OPEN, flags: FLAG_FIN, payloadType: "Open", message: { stat: { path: "/bin/sh", noFollow: true } } },
  { name: "open-list", streamId: 13, type: FrameType.OPEN, flags: FLAG_FIN, payloadType: "Open", message: { list: { path: "/" } } },
  { name: "open-mkdir", streamId: 15, type: FrameType.OPEN, flags: FLAG_FIN, payloadType: "Open", message: { mkdir: { path: "/a/b/c", mode: 0o700, parents: true } } },
  { name: "open-remove", streamId: 17, type: FrameType.OPEN, flags: FLAG_FIN, payloadType: "Open", message: { remove: { path: "/a", recursive: true } } },
  { name: "open-shutdown", streamId: 19, type: FrameType.OPEN, flags: FLAG_FIN, payloadType: "Open", message: { shutdown: { action: pb.ShutdownAction.SHUTDOWN_ACTION_REBOOT, graceMs: 500 } } },
  { name: "error-unknown-type", streamId: 0, type: FrameType.ERROR, flags: 0, payloadType: "ConnError",
    message: { code: pb.ErrorCode.ERROR_CODE_UNKNOWN_FRAME_TYPE, message: "unknown frame type 99 on stream 0: skipped (a newer peer?)", frameType: 99 } },
  { name: "unknown-type-99", streamId: 0, type: 99, flags: 0, payloadType: null, raw: [1, 2, 3, 4] },
  { name: "data-stdin-eof", streamId: 1, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage", message: { stdinEof: {} } },
];

/** What c/test/golden_test.c encodes (keep the two lists in step; the test names the mismatch). */
export const C_CASES: VectorCase[] = [
  { name: "hello-guest", streamId: 0, type: FrameType.HELLO, flags: 0, payloadType: "Hello",
    message: { maxProtocolVersion: 1, minProtocolVersion: 1, softwareVersion: "moat-agent/golden", capabilities: ["exec", "exec.tty", "files", "health", "shutdown"], role: pb.Role.ROLE_GUEST } },
  { name: "data-started", streamId: 1, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage", message: { started: { pid: 4242 } } },
  { name: "data-stdout", streamId: 1, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage", message: { stdoutData: { data: [...Buffer.from("hi\n")] } } },
  { name: "data-stderr", streamId: 1, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage", message: { stderrData: { data: [0, 255, 16] } } },
  { name: "data-exit-code", streamId: 1, type: FrameType.DATA, flags: FLAG_FIN, payloadType: "StreamMessage", message: { exit: { code: 3 } } },
  { name: "data-exit-zero", streamId: 1, type: FrameType.DATA, flags: FLAG_FIN, payloadType: "StreamMessage", message: { exit: { code: 0 } } },
  { name: "data-exit-signal", streamId: 3, type: FrameType.DATA, flags: FLAG_FIN, payloadType: "StreamMessage", message: { exit: { signal: 9, coreDumped: true } } },
  { name: "data-file-info", streamId: 5, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage",
    message: { fileInfo: { name: "/tmp/x", type: pb.FileType.FILE_TYPE_REGULAR, mode: 0o644, size: 5000000000, mtimeNs: 1700000000000000000, uid: 1000, gid: 1000 } } },
  { name: "data-entries", streamId: 7, type: FrameType.DATA, flags: 0, payloadType: "StreamMessage",
    message: { entries: { entries: [{ name: "a", type: pb.FileType.FILE_TYPE_DIRECTORY, mode: 0o755 }, { name: "l", type: pb.FileType.FILE_TYPE_SYMLINK, mode: 0o777, linkTarget: "/x" }] } } },
  { name: "data-health", streamId: 9, type: FrameType.DATA, flags: FLAG_FIN, payloadType: "StreamMessage",
    message: { health: { uptimeMs: 123456, memTotalBytes: 1073741824, memAvailableBytes: 536870912, loadAvgMilli: 250, processes: 2, agentVersion: "moat-agent/golden" } } },
  { name: "reset-spawn", streamId: 11, type: FrameType.RESET, flags: 0, payloadType: "Reset",
    message: { code: pb.ErrorCode.ERROR_CODE_SPAWN_FAILED, message: "execve nope: No such file or directory", errnoValue: 2 } },
  { name: "window", streamId: 1, type: FrameType.WINDOW, flags: 0, payloadType: "WindowUpdate", message: { increment: 131072 } },
  { name: "close", streamId: 1, type: FrameType.CLOSE, flags: 0, payloadType: null },
  { name: "error-version", streamId: 0, type: FrameType.ERROR, flags: 0, payloadType: "ConnError",
    message: { code: pb.ErrorCode.ERROR_CODE_VERSION_MISMATCH, message: "no common protocol version: agent speaks 1..1, host 2..3", fatal: true } },
];
