/**
 * Translating a MachineSpec into a qemu-system-x86_64 command line for `-M microvm`: kernel,
 * disks as virtio-blk-device, the serial console to a log file, the agent's RPC and control
 * channels as virtio-serial ports backed by Unix sockets, and a QMP monitor socket. Pure: no I/O.
 */
import type { MachineSpec } from "@moat/backend-api";
import type { Accelerator } from "./accelerator.js";

/** Names of the virtio-serial ports the guest agent looks for under /dev/virtio-ports/. */
export const RPC_PORT_NAME = "moat.rpc";
export const CONTROL_PORT_NAME = "moat.ctl";
/** QEMU device ids of those ports (QMP's VSERPORT_CHANGE events name them). */
export const RPC_PORT_ID = "rpcport";
export const CONTROL_PORT_ID = "ctlport";

/** The guest port whose traffic the RPC serial port carries (the agent's vsock port). */
export const AGENT_RPC_PORT = 1024;

export interface RuntimePaths {
  qmpSocket: string;
  rpcSocket: string;
  controlSocket: string;
  pidFile: string;
  consoleLog: string;
}

export function qemuArguments(spec: MachineSpec, accel: Accelerator, paths: RuntimePaths): string[] {
  const args = [
    "-M", "microvm,acpi=off,x-option-roms=off,rtc=on,isa-serial=on",
    "-accel", accel === "kvm" ? "kvm" : "tcg,thread=multi",
    "-cpu", accel === "kvm" ? "host" : "max",
    "-smp", String(spec.vcpus),
    "-m", `${spec.memoryMiB}M`,
    "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
    "-kernel", spec.kernel.path,
    // Under TCG on a loaded host the kernel's IO-APIC timer check can miss its ticks and panic
    // ("IO-APIC + timer doesn't work!"); the timer itself works, so the check is skipped.
    "-append", accel === "kvm" ? spec.kernel.cmdline : `${spec.kernel.cmdline} no_timer_check`,
    "-chardev", `file,id=console,path=${escapeOption(paths.consoleLog)},append=on`,
    "-serial", "chardev:console",
    "-qmp", `unix:${escapeOption(paths.qmpSocket)},server=on,wait=off`,
    "-pidfile", paths.pidFile,
  ];
  if (spec.kernel.initrd) args.push("-initrd", spec.kernel.initrd);
  spec.disks.forEach((disk, i) => {
    const drive = [
      `id=disk${i}`,
      `file=${escapeOption(disk.path)}`,
      "format=raw",
      "if=none",
      `readonly=${disk.readOnly ? "on" : "off"}`,
      `cache=${disk.cache}`,
    ];
    args.push("-drive", drive.join(","), "-device", `virtio-blk-device,drive=disk${i}`);
  });
  args.push(
    "-device", "virtio-serial-device,max_ports=4",
    "-chardev", `socket,id=rpc,path=${escapeOption(paths.rpcSocket)},server=on,wait=off`,
    "-device", `virtserialport,id=${RPC_PORT_ID},chardev=rpc,name=${RPC_PORT_NAME}`,
    "-chardev", `socket,id=ctl,path=${escapeOption(paths.controlSocket)},server=on,wait=off`,
    "-device", `virtserialport,id=${CONTROL_PORT_ID},chardev=ctl,name=${CONTROL_PORT_NAME}`,
    "-device", "virtio-rng-device",
  );
  return args;
}

/** QEMU option values separate on ","; a literal comma is written ",,". */
export function escapeOption(value: string): string {
  return value.replaceAll(",", ",,");
}
