/**
 * The native addon (build/Release/moat_kvm.node) and the shape of what it takes and gives: the
 * native machine config (the JSON schema the future VMM host process passes through as is) and
 * the events a NativeMachine reports.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BackendError, BackendErrorCode } from "@moat/backend-api";

/** The native machine config (see README.md "Native config"). Sizes in bytes. */
export interface NativeMachineConfig {
  vcpus: number;
  memoryBytes: number;
  /** Boot a Linux kernel (ELF vmlinux with a PVH note, or a bzImage)… */
  kernel?: { path: string; cmdline?: string; initrd?: string };
  /** …or a T1 flat binary at CPL3 (backends/vmm/test/guest); exactly one of the two. */
  testPayload?: { path: string; args?: string };
  /** virtio-mmio order: vsock, then disks in order, then rng. */
  disks?: { path: string; readOnly?: boolean }[];
  vsock?: { guestCid: number; udsPath: string };
  /** Default true. */
  rng?: boolean;
  /** Serial output is appended to this file. */
  consolePath?: string;
  /** Also deliver serial output as "console" events. Default false. */
  consoleEvents?: boolean;
}

export type NativeExitReason = "poweroff" | "reboot" | "killed" | "crashed";

export type NativeEvent =
  | { type: "console"; data: Buffer }
  | { type: "exit"; reason: NativeExitReason; status: number; detail: string };

export interface NativeStartInfo {
  /** The full kernel command line the guest got ("" in test-payload mode). */
  cmdline: string;
  devices: { kind: "vsock" | "blk" | "rng"; mmioBase: number; irq: number }[];
}

export interface NativeMachineHandle {
  start(): Promise<NativeStartInfo>;
  pause(): Promise<void>;
  resume(): void;
  kill(): void;
  close(): Promise<void>;
  /** Guest RAM resident on the host (what the guest touched); 0 before start and after close. */
  guestResidentBytes(): Promise<number>;
}

export interface NativeProbe {
  code: "OK" | "NO_DEVICE" | "PERMISSION" | "API_VERSION" | "NO_GUEST_KERNEL" | "HV_ERROR";
  message: string;
  elapsedMs: number;
}

export interface NativeAddon {
  NativeMachine: new (config: NativeMachineConfig, onEvent: (event: NativeEvent) => void) => NativeMachineHandle;
  probe(timeoutMs: number): Promise<NativeProbe>;
}

/** Where the built addon lives (the package root's build/Release). */
export const addonPath = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "Release", "moat_kvm.node");

let cached: NativeAddon | undefined;

/** Loads the addon once; a missing build or a load failure is a BackendError naming the fix. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    throw new BackendError(BackendErrorCode.UNAVAILABLE, `the KVM backend's native addon is not built (${addonPath} is missing)`, {
      backend: "kvm",
      fix: "build it: pnpm --filter @moat/backend-kvm build (needs python3, make and g++)",
    });
  }
  try {
    cached = createRequire(import.meta.url)(addonPath) as NativeAddon;
    return cached;
  } catch (cause) {
    throw new BackendError(BackendErrorCode.LOAD_FAILED, `the KVM backend's native addon ${addonPath} failed to load: ${(cause as Error).message}`, {
      backend: "kvm",
      cause,
      fix: "rebuild it for this Node version: pnpm --filter @moat/backend-kvm build",
    });
  }
}
