/**
 * The agent as PID 1 of the real guest: QEMU TCG boots the guest kernel with the base image (this
 * agent inside) and a blank writable disk, and the test drives the agent over the virtio-serial
 * port moat.rpc with the real @moat/rpc client: boot parameters applied, overlay root on the
 * freshly formatted disk, exec and files, a host reconnect, shutdown ending QEMU, and the writable
 * layer surviving into a second boot. Skips with the reason when QEMU or the artifacts cannot be had.
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient } from "@moat/rpc";
import { bootWithSerial, resolveGuest, type BootedGuest, type Guest } from "./qemu-boot.js";

async function connectRpc(socket: string): Promise<RpcClient> {
  const sock = connect(socket);
  await new Promise<void>((res, rej) => sock.once("connect", res).once("error", rej));
  return RpcClient.connect(sock, { timeoutMs: 30_000 });
}

describe("guest boot (QEMU TCG, RPC over virtio-serial)", () => {
  let guest: Guest;
  let dir: string;
  const booted: BootedGuest[] = [];
  beforeAll(() => {
    guest = resolveGuest();
    dir = mkdtempSync(join(tmpdir(), "moat-agent-boot-"));
  }, 1_800_000);
  afterAll(() => {
    for (const g of booted) g.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs as PID 1, serves exec and files, survives a reconnect, powers off, keeps the writable layer", async (ctx) => {
    if (!guest.ok) {
      console.log(`skipped: ${guest.skipReason}`);
      ctx.skip();
      return;
    }
    const disk = join(dir, "rw.img");
    writeFileSync(disk, "");
    truncateSync(disk, 256 * 1024 * 1024); // blank and sparse: the agent formats it
    const now = Math.floor(Date.now() / 1000);
    const first = await bootWithSerial({
      ...guest, writableDisk: disk, dir, readyTimeoutMs: 180_000,
      params: ["moat.hostname=agent-test", `moat.clock=${now}`],
    });
    booted.push(first);
    let client = await connectRpc(first.rpcSocket);
    expect(client.peer.softwareVersion).toMatch(/^moat-agent\//);
    const facts = await client.run(["sh", "-c", "cat /proc/1/comm; hostname; findmnt -n -o FSTYPE /; date +%s; cat /proc/mounts"]);
    const [comm, hostname, rootFs, date] = facts.stdout.toString().split("\n");
    expect(comm).toBe("moat-agent");
    expect(hostname).toBe("agent-test");
    expect(rootFs).toBe("overlay");
    expect(Math.abs(Number(date) - now)).toBeLessThan(600);
    expect(facts.stdout.toString()).toMatch(/devpts \/dev\/pts/);
    expect(facts.stdout.toString()).toMatch(/cgroup2 \/sys\/fs\/cgroup/);
    await client.files.put("/root/persist.txt", "kept across boots\n");
    expect((await client.run(["cat", "/root/persist.txt"])).stdout.toString()).toBe("kept across boots\n");
    const tty = await client.run(["sh", "-c", "tty"], { tty: true });
    expect(tty.stdout.toString()).toMatch(/^\/dev\/pts\/\d+/);

    // The host goes away and comes back: the port reports the hang-up, the agent waits for the next host.
    await client.close();
    await new Promise((r) => setTimeout(r, 500));
    client = await connectRpc(first.rpcSocket);
    expect((await client.run(["echo", "again"])).stdout.toString()).toBe("again\n");

    await client.shutdown({ graceMs: 500 });
    const code = await first.exited;
    expect(code, first.console()).toBe(0);
    console.log(`first boot (blank disk formatted): ready after ${Math.round(first.readyAfterMs)} ms under TCG; agent console lines:\n` +
      first.console().split("\n").filter((l) => /moat-agent|MOAT_/.test(l)).join("\n"));
    expect(first.console()).toMatch(/^MOAT_AGENT_POWEROFF$/m);

    const second = await bootWithSerial({ ...guest, writableDisk: disk, dir, readyTimeoutMs: 180_000, params: [] });
    booted.push(second);
    client = await connectRpc(second.rpcSocket);
    expect((await client.files.readFile("/root/persist.txt")).toString()).toBe("kept across boots\n");
    expect((await client.run(["hostname"])).stdout.toString()).toBe("moat\n");
    await client.shutdown({ graceMs: 500 });
    expect(await second.exited, second.console()).toBe(0);
    console.log(`second boot: ready after ${Math.round(second.readyAfterMs)} ms under TCG`);
  }, 900_000);
});
