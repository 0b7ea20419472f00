/**
 * Firecracker's hybrid vsock, host side: connect to the VMM's Unix socket, send "CONNECT <port>\n",
 * read "OK <hostport>\n"; after that the socket is a byte stream to the guest port. When nothing
 * listens on the guest port the VMM closes the socket instead of answering OK.
 */
import { connect, type Socket } from "node:net";
import { BackendError, BackendErrorCode } from "@moat/backend-api";

const MAX_REPLY_BYTES = 64;

export function connectHybridVsock(udsPath: string, port: number, timeoutMs = 10_000): Promise<Socket> {
  if (!Number.isInteger(port) || port < 0 || port > 0xffffffff) {
    return Promise.reject(new BackendError(BackendErrorCode.INVALID_STATE, `vsock port ${port} is not a 32-bit unsigned integer`));
  }
  return new Promise((resolve, reject) => {
    const socket = connect(udsPath);
    let reply = Buffer.alloc(0);
    const fail = (message: string, cause?: unknown) => {
      cleanup();
      socket.destroy();
      reject(new BackendError(BackendErrorCode.UNAVAILABLE, message, { backend: "kvm", cause }));
    };
    const timer = setTimeout(() => fail(`vsock ${udsPath}: no "OK" for guest port ${port} within ${timeoutMs} ms`), timeoutMs);
    // 'readable' + read() rather than 'data': the socket must not be left flowing with no listener.
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) reply = Buffer.concat([reply, chunk]);
      const newline = reply.indexOf(0x0a);
      if (newline < 0) {
        if (reply.length > MAX_REPLY_BYTES) fail(`vsock ${udsPath}: malformed reply ${JSON.stringify(reply.toString("latin1"))}`);
        return;
      }
      const line = reply.subarray(0, newline).toString("latin1");
      if (!/^OK \d+$/.test(line)) return fail(`vsock ${udsPath}: guest port ${port} refused (${JSON.stringify(line)})`);
      cleanup();
      const rest = reply.subarray(newline + 1);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const onClose = () => fail(`vsock ${udsPath}: nothing listens on guest port ${port} (the VMM closed the connection)`);
    const onError = (error: Error) => fail(`vsock ${udsPath}: ${error.message}`, error);
    function cleanup() {
      clearTimeout(timer);
      socket.off("readable", onReadable);
      socket.off("close", onClose);
      socket.off("error", onError);
    }
    socket.on("readable", onReadable);
    socket.on("close", onClose);
    socket.on("error", onError);
    socket.once("connect", () => socket.write(`CONNECT ${port}\n`));
  });
}
