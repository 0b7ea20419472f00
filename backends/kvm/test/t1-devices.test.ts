/**
 * T1 (docs/ARCHITECTURE.md, "Test tiers"): part A's freestanding guest programs drive the real device model through real
 * KVM exits at CPL3 — serial, virtio-blk against a file, virtio-vsock both ways with the hybrid
 * protocol from Node (CONNECT handshake, guest-initiated streams to <uds>_<port>), many concurrent
 * streams, large transfers, garbage descriptors that must not take the VMM down, and the platform
 * facts a Linux boot probes (CPUID leaves, the i8042 status).
 */
import { spawnSync } from "node:child_process";
import { openSync, readFileSync, closeSync, readSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { addonPath, connectHybridVsock } from "../src/index.js";
import { skipReason, tempDir } from "./helpers/kvm.js";
import { guestProgram, startPayload, t1SkipReason } from "./helpers/t1.js";

const reason = skipReason ?? t1SkipReason();
if (reason && !skipReason) console.log(`[backend-kvm T1] skipping: ${reason}`);
const dir = tempDir("moat-t1-");
afterAll(() => dir.cleanup());
let socketCounter = 0;
const udsPath = () => join(dir.path, `v${++socketCounter}.sock`);

/** A Unix-socket echo server (the host side of guest-initiated streams). */
function echoServer(path: string): Promise<Server & { streams: number }> {
  const server = createServer((socket) => {
    (server as Server & { streams: number }).streams++;
    socket.pipe(socket);
    socket.on("error", () => socket.destroy());
  }) as Server & { streams: number };
  server.streams = 0;
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

/** Sends `bytes` on a host-initiated stream, half-closes, and collects everything echoed back. */
function echoRoundTrip(socket: Socket, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
    socket.end(payload);
  });
}

describe.skipIf(reason)("T1 device programs on KVM", () => {
  test("serial: serial_hello prints its greeting and args, exits 0", async () => {
    const consolePath = join(dir.path, "serial.log");
    const p = await startPayload("serial_hello", "greeting=yes", { consolePath });
    expect(await p.vm.exited).toEqual({ reason: "poweroff", status: 0, detail: "" });
    expect(p.console()).toContain("args=greeting=yes");
    expect(readFileSync(consolePath, "utf8")).toBe(p.console());
  });

  test("platform: KVM signature and kvmclock leaves, TSC-deadline bit, an i8042 status Linux gives up on", async () => {
    const p = await startPayload("platform_check", "");
    expect(await p.vm.exited, p.console()).toEqual({ reason: "poweroff", status: 0, detail: "" });
    expect(p.console()).toContain("platform_check: ok");
  });

  test("virtio-blk: write, flush, read back against a file; the pattern lands in the file", async () => {
    const disk = join(dir.path, "rw.img");
    writeFileSync(disk, Buffer.alloc(4 * 1024 * 1024));
    const p = await startPayload("blk_rw", "sectors=512 start=8", { disks: [{ path: disk }] });
    const exit = await p.vm.exited;
    expect(exit, p.console()).toMatchObject({ reason: "poweroff", status: 0 });
    expect(p.console()).toContain("blk_rw: ok");
    // The guest wrote sectors 8..520: the file holds non-zero data there and zeros before.
    const fd = openSync(disk, "r");
    const head = Buffer.alloc(8 * 512);
    const body = Buffer.alloc(512 * 512);
    readSync(fd, head, 0, head.length, 0);
    readSync(fd, body, 0, body.length, 8 * 512);
    closeSync(fd);
    expect(head.every((b) => b === 0)).toBe(true);
    expect(body.some((b) => b !== 0)).toBe(true);
  });

  test("virtio-blk read-only: writes fail with IOERR, reads work", async () => {
    const disk = join(dir.path, "ro.img");
    writeFileSync(disk, Buffer.alloc(1024 * 1024, 0xab));
    const p = await startPayload("blk_rw", "ro=1", { disks: [{ path: disk, readOnly: true }] });
    expect(await p.vm.exited, p.console()).toMatchObject({ reason: "poweroff", status: 0 });
    expect(readFileSync(disk).every((b) => b === 0xab)).toBe(true);
  });

  test("vsock guest→host: 8 concurrent guest-initiated streams of 1 MiB echo through <uds>_<port>", async () => {
    const uds = udsPath();
    const server = await echoServer(`${uds}_5000`);
    try {
      const p = await startPayload("vsock_echo", "port=5000 streams=8 bytes=1048576", { vsock: { guestCid: 7, udsPath: uds } });
      const exit = await p.vm.exited;
      expect(exit, p.console()).toMatchObject({ reason: "poweroff", status: 0 });
      expect(p.console()).toContain("vsock_echo: guest cid 7");
      expect(p.console()).toContain("8 guest-initiated and 0 host-initiated streams done");
      expect(server.streams).toBe(8);
    } finally {
      server.close();
    }
  });

  test("vsock host→guest: CONNECT handshake from Node, 16 concurrent streams, 4 MiB echoed on one", async () => {
    const uds = udsPath();
    const p = await startPayload("vsock_echo", "listen=1234 accept=16", { vsock: { guestCid: 3, udsPath: uds } });
    await p.waitFor("vsock_echo: ready");
    const payloads = Array.from({ length: 16 }, (_, i) => {
      const size = i === 0 ? 4 * 1024 * 1024 : 64 * 1024 + i * 1000;
      const b = Buffer.alloc(size);
      for (let k = 0; k < size; k++) b[k] = (k * 31 + i) & 0xff;
      return b;
    });
    const echoed = await Promise.all(payloads.map(async (payload) => echoRoundTrip(await connectHybridVsock(uds, 1234), payload)));
    echoed.forEach((e, i) => expect(e.equals(payloads[i]!), `stream ${i}: ${e.length} of ${payloads[i]!.length} bytes`).toBe(true));
    const exit = await p.vm.exited;
    expect(exit, p.console()).toMatchObject({ reason: "poweroff", status: 0 });
    expect(p.console()).toContain("0 guest-initiated and 16 host-initiated streams done");
  });

  test("vsock: CONNECT to a port nobody listens on is refused (no OK), the machine keeps running", async () => {
    const uds = udsPath();
    const p = await startPayload("vsock_echo", "listen=1234 accept=1", { vsock: { guestCid: 3, udsPath: uds } });
    await p.waitFor("vsock_echo: ready");
    await expect(connectHybridVsock(uds, 999, 5000)).rejects.toThrow(/nothing listens on guest port 999|refused/);
    const echoed = await echoRoundTrip(await connectHybridVsock(uds, 1234), Buffer.from("still alive"));
    expect(echoed.toString()).toBe("still alive");
    expect(await p.vm.exited).toMatchObject({ reason: "poweroff", status: 0 });
  });

  test("garbage descriptors: devices are marked broken or requests fail; the VMM process survives", () => {
    const disk = join(dir.path, "garbage.img");
    writeFileSync(disk, Buffer.alloc(1024 * 1024));
    const config = {
      vcpus: 1,
      memoryBytes: 128 * 1024 * 1024,
      testPayload: { path: guestProgram("garbage_descriptors"), args: "" },
      disks: [{ path: disk }],
      vsock: { guestCid: 3, udsPath: udsPath() },
      consoleEvents: true,
    };
    const runner = fileURLToPath(new URL("./helpers/run-native.cjs", import.meta.url));
    // A crash of the VMM (signal, abort) shows up as the child's signal or status, not a dead runner.
    const child = spawnSync(process.execPath, [runner, addonPath, JSON.stringify(config)], { encoding: "utf8", timeout: 60_000 });
    const output = `${child.stderr}`;
    expect(child.signal, `the VMM child process died; output:\n${output}`).toBeNull();
    expect(child.status, output).toBe(0);
    const result = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
    expect(output).toContain("garbage_descriptors: ok");
    expect(result, output).toMatchObject({ reason: "poweroff", status: 0 });
  });
});
