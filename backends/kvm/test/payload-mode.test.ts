/**
 * The test-payload boot mode on real KVM with tiny assembled CPL3 programs: serial output reaches
 * the console file and events, the exit port's status ends the machine, t1_boot_info is where the
 * ABI says, a fault ends it as "crashed", kill/pause/resume work on a running guest, several vCPUs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { NativeVm } from "../src/index.js";
import { asm, assemble, skipReason, tempDir } from "./helpers/kvm.js";

const dir = tempDir();
afterAll(() => dir.cleanup());
const MiB = 1024 * 1024;

describe.skipIf(skipReason)("test-payload mode on KVM", () => {
  test("serial output goes to the console log and events; exit status 0 is a poweroff", async () => {
    const path = assemble(dir.path, "hello", `${asm.print("hello from CPL3\n")}\n${asm.exit(0)}`);
    const consolePath = join(dir.path, "hello.log");
    const vm = new NativeVm({ vcpus: 1, memoryBytes: 32 * MiB, testPayload: { path }, consolePath, consoleEvents: true });
    const chunks: Buffer[] = [];
    vm.on("console", (data) => chunks.push(data));
    const info = await vm.start();
    expect(info.cmdline).toBe("");
    const exit = await vm.exited;
    expect(exit).toEqual({ reason: "poweroff", status: 0, detail: "" });
    expect(readFileSync(consolePath, "utf8")).toBe("hello from CPL3\n");
    expect(Buffer.concat(chunks).toString()).toBe("hello from CPL3\n");
  });

  test("a non-zero exit status is reported; t1_boot_info (magic, mem_size, args) is at RDI", async () => {
    // Exit status = 1 if magic wrong, 2 if mem_size wrong, 3 if args[0..2] != "k=v", 42 if all good.
    const path = assemble(
      dir.path,
      "bootinfo",
      `movabs $0x4d4f41545431, %rax
       cmp (%rdi), %rax
       jne bad_magic
       cmpq $${48 * MiB}, 8(%rdi)
       jne bad_mem
       mov $0xd0000000, %eax
       cmp 16(%rdi), %rax
       jne bad_mem
       cmpb $'k', 100(%rdi)
       jne bad_args
       cmpb $'=', 101(%rdi)
       jne bad_args
       ${asm.exit(42)}
       bad_magic: ${asm.exit(1)}
       bad_mem: ${asm.exit(2)}
       bad_args: ${asm.exit(3)}`,
    );
    const vm = new NativeVm({ vcpus: 1, memoryBytes: 48 * MiB, testPayload: { path, args: "k=v" }, rng: false });
    await vm.start();
    expect(await vm.exited).toMatchObject({ reason: "poweroff", status: 42 });
  });

  test("a fault at CPL3 (no IDT) triple-faults: the machine ends as crashed, the process lives on", async () => {
    const path = assemble(dir.path, "fault", `${asm.print("before\n")}\nud2`);
    const vm = new NativeVm({ vcpus: 1, memoryBytes: 32 * MiB, testPayload: { path } });
    await vm.start();
    const exit = await vm.exited;
    expect(exit.reason).toBe("crashed");
    expect(exit.detail).toMatch(/triple fault/);
    expect(exit.detail).toContain("before");
  });

  test("kill() ends a spinning guest; 25 pause()/resume() cycles park and release both vCPUs", async () => {
    const path = assemble(dir.path, "spin", asm.spin);
    const vm = new NativeVm({ vcpus: 2, memoryBytes: 32 * MiB, testPayload: { path } });
    await vm.start();
    for (let i = 0; i < 25; i++) {
      await vm.pause();
      vm.resume();
    }
    await vm.pause(); // kill a paused machine too
    const exit = await vm.kill();
    expect(exit.reason).toBe("killed");
  });

  test("guestResidentBytes counts the guest RAM the guest touched, not the rest", async () => {
    // Touch one byte in each of 2048 pages (8 MiB) from T1_FREE_RAM_START (16 MiB), then say so and spin.
    const path = assemble(
      dir.path,
      "touch",
      `mov $0x1000000, %rbx
       mov $2048, %rcx
       1: movb $1, (%rbx)
       add $4096, %rbx
       loop 1b
       ${asm.print("T")}
       ${asm.spin}`,
    );
    const vm = new NativeVm({ vcpus: 1, memoryBytes: 64 * MiB, testPayload: { path }, consoleEvents: true });
    const touched = new Promise<void>((resolve) => vm.on("console", () => resolve()));
    expect(await vm.guestResidentBytes()).toBe(0); // not started: no guest memory yet
    await vm.start();
    await touched;
    const resident = await vm.guestResidentBytes();
    expect(resident).toBeGreaterThanOrEqual(8 * MiB);
    expect(resident).toBeLessThan(32 * MiB); // page tables, payload, stack and THP rounding, not all 64 MiB
    await vm.kill();
    expect(await vm.guestResidentBytes()).toBe(0); // closed: guest memory unmapped
  });

  test("kill() while start() is still building the machine ends it as killed", async () => {
    const path = assemble(dir.path, "spin2", asm.spin);
    const vm = new NativeVm({ vcpus: 1, memoryBytes: 32 * MiB, testPayload: { path } });
    const started = vm.start();
    const killed = vm.kill();
    await started;
    expect((await killed).reason).toBe("killed");
  });

  test("unmapped MMIO reads return all ones and do not stop the guest", async () => {
    // Reads 4 bytes from the last page of the MMIO window (no device there): expects 0xffffffff.
    const path = assemble(
      dir.path,
      "unmapped",
      `mov $0xd0fff000, %rbx
       mov (%rbx), %eax
       cmp $0xffffffff, %eax
       jne 3f
       ${asm.exit(0)}
       3: ${asm.exit(9)}`,
    );
    const vm = new NativeVm({ vcpus: 1, memoryBytes: 32 * MiB, testPayload: { path } });
    await vm.start();
    expect(await vm.exited).toMatchObject({ reason: "poweroff", status: 0 });
  });
});
