/**
 * What a sandbox may ask for, in one place: the policy file's `resources`, the CLI flags layer and
 * @moat/core's checks all use these bounds. 128 MiB is what the guest kernel and agent boot in;
 * 1 TiB of memory is the VMM's own bound (it catches bytes passed as MiB).
 */
export const RESOURCE_LIMITS = {
  cpus: { min: 1, max: 64 },
  memoryMiB: { min: 128, max: 1024 * 1024 },
  diskMiB: { min: 64, max: 16 * 1024 * 1024 },
} as const;
