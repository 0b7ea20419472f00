/** The bounds `validateMachineSpec()` enforces, exported so callers can show them and clamp inputs. */
export const MACHINE_LIMITS = {
  minVcpus: 1,
  /** KVM's usual KVM_MAX_VCPUS floor; HVF and WHP allow at least this many too. */
  maxVcpus: 255,
  minMemoryMiB: 1,
  /** 1 TiB: far above any sandbox; catches unit mix-ups (bytes passed as MiB). */
  maxMemoryMiB: 1024 * 1024,
  /** x86 Linux COMMAND_LINE_SIZE is 2048 bytes including the terminating NUL. */
  maxCmdlineBytes: 2047,
  /** Linux sockaddr_un.sun_path is 108 bytes including the terminating NUL. */
  maxSocketPathBytes: 107,
  /** First CID a guest may use: 0, 1 and 2 are the hypervisor, local and host. */
  minGuestCid: 3,
  /** 0xffffffff is VMADDR_CID_ANY. */
  maxGuestCid: 0xfffffffe,
  /** virtio-fs config space holds a 36-byte tag. */
  maxShareTagBytes: 36,
} as const;

export const DISK_CACHE_MODES = ["none", "writeback", "unsafe"] as const;
