/**
 * One benchmark run = one VM running part A's `vsock_bench` T1 payload on KVM:
 *   guest→host: the guest streams `bytes` to host port 5001 (Unix socket <uds>_5001);
 *   host→guest: Node sends `bytes` on CONNECT 5002 and waits until the guest has consumed them;
 *   round trip: Node ping-pongs `pings` 64-byte messages on CONNECT 5003.
 * Beside them, a memcpy bound: Buffer.copy of the same byte count in this process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectHybridVsock, NativeVm } from "@moat/backend-kvm";

export const payloadPath = fileURLToPath(new URL("../../../backends/vmm/build/guest/vsock_bench.bin", import.meta.url));

export interface RunResult {
  guestToHostMBps: number;
  hostToGuestMBps: number;
  roundTripUs: number[];
  memcpyMBps: number;
}

const MB = 1e6;

function memcpyMBps(bytes: number): number {
  const src = Buffer.alloc(Math.min(bytes, 64 * 1024 * 1024), 1);
  const dst = Buffer.alloc(src.length);
  src.copy(dst); // first touch of dst's pages is not part of the bound
  const start = process.hrtime.bigint();
  for (let done = 0; done < bytes; done += src.length) src.copy(dst);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return bytes / MB / s;
}

export async function runOnce(bytes: number, pings: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "moat-bench-vsock-"));
  const uds = join(dir, "v.sock");
  let text = "";
  try {
    // guest→host: the sink server must exist before the guest connects.
    let g2hResolve!: (mbps: number) => void;
    const g2h = new Promise<number>((resolve) => (g2hResolve = resolve));
    const server = createServer((socket) => {
      let received = 0;
      const start = process.hrtime.bigint();
      socket.on("data", (c: Buffer) => (received += c.length));
      socket.on("end", () => {
        const s = Number(process.hrtime.bigint() - start) / 1e9;
        g2hResolve(received / MB / s);
        socket.end();
      });
    });
    await new Promise<void>((r) => server.listen(`${uds}_5001`, r));
    const vm = new NativeVm({
      vcpus: 1,
      memoryBytes: 256 * 1024 * 1024,
      testPayload: { path: payloadPath, args: `source=5001 sink=5002 echo=5003 bytes=${bytes}` },
      vsock: { guestCid: 3, udsPath: uds },
      consoleEvents: true,
    });
    vm.on("console", (d) => (text += d.toString("latin1")));
    await vm.start();
    const guestToHostMBps = await g2h;
    server.close();

    // host→guest: write everything, half-close, wait for the guest's close after it consumed all.
    const sink = await connectHybridVsock(uds, 5002);
    const chunk = Buffer.alloc(256 * 1024, 7);
    const h2gStart = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      sink.on("error", reject);
      sink.on("close", () => resolve());
      sink.resume();
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          const n = Math.min(chunk.length, bytes - sent);
          sent += n;
          if (!sink.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void sink.once("drain", pump);
        }
        sink.end();
      };
      pump();
    });
    const hostToGuestMBps = bytes / MB / (Number(process.hrtime.bigint() - h2gStart) / 1e9);

    // round trips
    const echo = await connectHybridVsock(uds, 5003);
    const message = Buffer.alloc(64, 9);
    const roundTripUs: number[] = [];
    for (let i = 0; i < pings; i++) {
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        let got = 0;
        const onData = (c: Buffer) => {
          got += c.length;
          if (got >= message.length) {
            echo.off("data", onData);
            resolve();
          }
        };
        echo.on("data", onData);
        echo.write(message);
      });
      roundTripUs.push(Number(process.hrtime.bigint() - start) / 1e3);
    }
    echo.end();
    const exit = await vm.exited;
    if (exit.reason !== "poweroff" || exit.status !== 0) throw new Error(`vsock_bench ended with ${JSON.stringify(exit)}; console:\n${text}`);
    return { guestToHostMBps, hostToGuestMBps, roundTripUs, memcpyMBps: memcpyMBps(bytes) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
