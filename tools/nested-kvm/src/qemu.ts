/**
 * The QEMU command line of the L1 VM: microvm without ACPI (the kernel finds the virtio-mmio devices on
 * the command line QEMU appends), TCG with an SVM+NPT CPU so /dev/kvm inside has hardware-virtualization
 * semantics, the host root shared read-only by virtio-9p, the serial console on QEMU's stdout, and
 * -no-reboot so the guest's `reboot -f` ends QEMU.
 */
export interface L1MachineOptions {
  kernel: string;
  initrd: string;
  memoryMiB: number;
  cpus: number;
  jobDir: string;
  pidFile: string;
  /** tmpfs size of the writable layer, e.g. "75%" or "3G". */
  scratch: string;
  verbose: boolean;
  /** Host TSC frequency for `tsc_early_khz=` (see tsc.ts); without it KVM inside cannot run guests. */
  tscKhz: number | undefined;
}

export const QEMU_BINARY = "qemu-system-x86_64";

/**
 * The L1 CPU: EPYC with SVM and nested paging, without the AVX family. QEMU 7.2 (Debian 12) was the
 * first TCG with AVX/AVX2, and the host code it emits for them depends on the host's own vector
 * units. On one CI host (not on our dev machines) Node and esbuild in the L1 turned valid source
 * files into text vite could not parse ("invalid JS syntax" at 1:0 of a correct file, U+FFFD in a
 * transformed one). One suspect is that emulation; the other is the 9p read path (initramfs/init
 * says why the share is mounted cache=mmap). Neither reproduced here, on an AVX2 host nor on an
 * AVX-512 one (2026-12-04: T2 passed with AVX on as well), so both are removed. Without AVX,
 * software in the L1 takes its SSE4.2 paths, which TCG has emulated for a decade; the L2 guests (our
 * kernel) do not need AVX either, and T2 took no longer (119 s without, 122 s with).
 * tools/test-all.sh prints the host CPU's vector features before T2, so a recurrence names its host.
 *
 * Without XSAVE too: with AVX off but XSAVE on, every L2 process whose signal handler returned was
 * killed ("bad frame in rt_sigreturn" — busybox sh's first SIGCHLD, so PID 1 of the boot benchmark
 * under moat's VMM and QEMU alike). The kernels then save FPU state with FXSAVE, which TCG has
 * emulated for two decades.
 */
export const L1_CPU = "EPYC-v1,+svm,+npt,-avx,-avx2,-fma,-f16c,-xsave";

export function l1QemuArgs(options: L1MachineOptions): string[] {
  const cmdline = [
    "console=ttyS0",
    options.verbose ? "loglevel=6" : "quiet loglevel=3",
    "panic=-1",
    "rdinit=/init",
    // Not no_timer_check (which the TCG sandboxes get against a timer-check panic): the L1 never
    // showed that panic, and with it 3 of 9 T2 runs here failed (an L2 kernel dying at boot with
    // zeroed registers, node segfaulting in L1, a vsock connection reset) against 0 of 14 without.
    // TCG reads the host TSC on every vCPU, so the TSCs are in sync: keep TSC as the clocksource.
    ...(options.tscKhz ? [`tsc_early_khz=${options.tscKhz}`, "tsc=reliable"] : []),
    `moat_job=${options.jobDir}`,
    `moat_scratch=${options.scratch}`,
    `moat_verbose=${options.verbose ? 1 : 0}`,
  ].join(" ");
  return [
    "-M", "microvm,acpi=off",
    "-accel", "tcg",
    "-cpu", L1_CPU,
    "-m", String(options.memoryMiB),
    "-smp", String(options.cpus),
    "-no-reboot",
    "-nodefaults",
    "-no-user-config",
    "-display", "none",
    "-chardev", "stdio,id=console,signal=off",
    "-serial", "chardev:console",
    "-kernel", options.kernel,
    "-initrd", options.initrd,
    "-append", cmdline,
    "-fsdev", "local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap",
    "-device", "virtio-9p-device,fsdev=hostroot,mount_tag=hostroot",
    "-device", "virtio-rng-device",
    "-pidfile", options.pidFile,
  ];
}
