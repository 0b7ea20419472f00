/**
 * The backend contract: what a hypervisor backend (ours or a third party's) implements so that
 * @moat/core can run a sandbox on it. Versioned by CONTRACT_VERSION (semver, strict): a change that
 * breaks a backend bumps the major, and core refuses a backend of another major.
 */

/**
 * Semver of this contract. Backends report the version they implement in `Backend.contractVersion`.
 * 1.1.0: MachineStats.guestResidentBytes (optional).
 * 1.2.0: MachineSpec.runtimeDir (optional).
 */
export const CONTRACT_VERSION = "1.2.0";

export type HostArch = "x64" | "arm64";
export type GuestArch = "x86_64" | "aarch64";

/** Optional capabilities a backend may advertise. */
export interface BackendFeatures {
  /** `Machine.snapshot()` / `Backend.restore()` are implemented. */
  snapshot: boolean;
  /** `Machine.pause()` / `Machine.resume()` are implemented. */
  pause: boolean;
  /** Virtio-fs shares (`MachineSpec.shares`) are served. */
  shares: boolean;
  /** The guest runs on hardware virtualization (false: software emulation, e.g. TCG). */
  hardwareAccelerated: boolean;
}

export interface ProbeResult {
  /** True when `createMachine()` can boot a guest kernel on this host right now. */
  available: boolean;
  /** Why not (or a caveat when available), phrased for a user; names the fix where there is one. */
  reason?: string;
  /** What to do next, e.g. "add your user to the kvm group: sudo usermod -aG kvm $USER". */
  fix?: string;
  hostArch: HostArch;
  guestArchs: GuestArch[];
  features: BackendFeatures;
  /** Free-form facts for `moat doctor` (e.g. `{ qemu: "7.2.11", accelerator: "tcg" }`). */
  details?: Record<string, string>;
}

export interface KernelSpec {
  /** Absolute path of an uncompressed ELF vmlinux (PVH entry) or a bzImage. */
  path: string;
  cmdline: string;
  /** Absolute path of an initrd (cpio, optionally compressed). */
  initrd?: string;
}

export type DiskCacheMode = "none" | "writeback" | "unsafe";

export interface DiskSpec {
  /** Absolute path of a raw disk image file. */
  path: string;
  readOnly: boolean;
  cache: DiskCacheMode;
}

export interface VsockSpec {
  /** Guest context id (>= 3). */
  guestCid: number;
  /**
   * Host Unix socket path (Firecracker's hybrid vsock): connect and send "CONNECT <port>\n",
   * read "OK <hostport>\n"; guest-initiated connections to host port P arrive at `<udsPath>_<P>`.
   */
  udsPath: string;
}

export interface ShareSpec {
  /** virtio-fs tag the guest mounts. */
  tag: string;
  /** Absolute host directory. */
  hostPath: string;
  readOnly: boolean;
}

/** Everything a backend needs to start one VM. Validate with `validateMachineSpec()`. */
export interface MachineSpec {
  vcpus: number;
  memoryMiB: number;
  kernel: KernelSpec;
  disks: DiskSpec[];
  vsock?: VsockSpec;
  shares: ShareSpec[];
  /** File the guest's serial console is appended to. */
  consoleLogPath?: string;
  /**
   * An existing directory private to this machine, for the backend's sockets and scratch files.
   * The caller removes it, even after a crash or a SIGKILL of the process hosting the machine (so a
   * backend that puts its files there leaves nothing behind). Without it a backend uses its own
   * temporary directory. (Contract 1.2)
   */
  runtimeDir?: string;
}

export type MachineState = "created" | "starting" | "running" | "paused" | "stopping" | "stopped" | "crashed";

/** How a machine ended. */
export interface MachineExit {
  reason: "poweroff" | "reboot" | "killed" | "crashed";
  /** For "crashed": what went wrong, with the console tail where one exists. */
  detail?: string;
}

export interface MachineStats {
  state: MachineState;
  vcpus: number;
  memoryMiB: number;
  /** Resident set size of the process hosting the VMM, in bytes, where measurable. */
  vmmRssBytes?: number;
  /**
   * Guest RAM resident on the host, in bytes, where measurable: what the guest has touched.
   * vmmRssBytes - guestResidentBytes is what the VMM itself costs. (Contract 1.1.)
   */
  guestResidentBytes?: number;
  uptimeMs: number;
}

export interface Machine {
  readonly spec: MachineSpec;
  readonly state: MachineState;
  /** Host-side hybrid-vsock Unix socket path (equals spec.vsock.udsPath), if the machine has vsock. */
  readonly vsockPath: string | undefined;
  /**
   * Opens a byte stream to a guest port (the agent serves its RPC on port 1024). Transport-agnostic:
   * hybrid vsock for our VMM, a virtio-serial socket for the QEMU fallback; callers never know which.
   * Rejects with BackendError code UNAVAILABLE when the guest is not listening (yet).
   */
  connect(port: number): Promise<import("node:stream").Duplex>;
  /**
   * Boots the guest; resolves once the vCPUs run (not when the guest is ready). A machine boots
   * once: start() in any state but "created" rejects with BackendError code INVALID_STATE.
   */
  start(): Promise<void>;
  /**
   * Stops the guest. graceful: ask it to power off (ACPI/serial/agent) and wait up to timeoutMs,
   * then kill. Resolves when the machine has ended; on an ended machine it resolves at once with
   * the same MachineExit (idempotent).
   */
  stop(options?: { graceful?: boolean; timeoutMs?: number }): Promise<MachineExit>;
  /** Ends the machine at once. */
  kill(): Promise<MachineExit>;
  /** Resolves when the machine ends, for whatever reason. */
  wait(): Promise<MachineExit>;
  /** Rejects with BackendError code UNSUPPORTED unless the backend's features.pause. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Rejects with BackendError code UNSUPPORTED unless the backend's features.snapshot. */
  snapshot(dir: string): Promise<void>;
  stats(): Promise<MachineStats>;
}

export interface Backend {
  /** Short name, e.g. "kvm"; the package is @moat/backend-<name> or moat-backend-<name>. */
  readonly name: string;
  /** CONTRACT_VERSION this backend was built against. */
  readonly contractVersion: string;
  probe(): Promise<ProbeResult>;
  /**
   * Validates `spec` first (`validateMachineSpec()`: BackendError INVALID_SPEC), then creates a
   * machine in state "created". Rejects with a BackendError (UNAVAILABLE...) when probe() says
   * unavailable. The conformance kit (`@moat/backend-api/conformance`) checks all of this.
   */
  createMachine(spec: MachineSpec): Promise<Machine>;
  /** Present when features.snapshot. */
  restore?(dir: string, spec: MachineSpec): Promise<Machine>;
}

/** What a backend package's main module exports. */
export interface BackendModule {
  createBackend(): Backend;
}
