/**
 * T1 guest-program ABI: the contract between the freestanding device-test programs in this folder
 * and the machine's "test payload" boot mode (backends/vmm/src/machine, part B). See README.md.
 *
 * The program runs at CPL3 in 64-bit long mode with IOPL=3 and IF=0, no IDT; guest RAM and the MMIO
 * window are identity-mapped user+RW. Any fault triple-faults (KVM shutdown exit = failure).
 * Plain C11 header, usable from the guest programs (freestanding) and from the host (C++).
 */
#ifndef MOAT_T1_ABI_H
#define MOAT_T1_ABI_H

#include <stdint.h>

#define T1_LOAD_ADDR 0x400000ull       /* flat binary loaded here; entry = first byte */
#define T1_STACK_TOP 0x3ff000ull       /* initial RSP (stack grows down) */
#define T1_BOOT_INFO_ADDR 0x3ff000ull  /* RDI points here */
#define T1_FREE_RAM_START 0x1000000ull /* rings/buffers from here up to mem_size */
#define T1_MMIO_BASE 0xd0000000ull     /* virtio-mmio window, identity-mapped */
#define T1_MMIO_WINDOW_SIZE 0x1000000ull
#define T1_MMIO_STRIDE 0x1000ull       /* device i at mmio_base + i * mmio_stride */
#define T1_SERIAL_PORT 0x3f8           /* 8250 THR: program output */
#define T1_EXIT_PORT 0x604             /* outl(status): 0 = pass, anything else = failure */
#define T1_BOOT_MAGIC 0x4d4f41545431ull /* "MOATT1" */
#define T1_MAX_DEVICES 16
#define T1_ARGS_SIZE 256

struct t1_boot_info {
  uint64_t magic;      /* T1_BOOT_MAGIC */
  uint64_t mem_size;   /* bytes of guest RAM starting at guest-physical 0 */
  uint64_t mmio_base;  /* first virtio-mmio device */
  uint64_t mmio_stride;
  uint32_t device_count;
  uint32_t device_ids[T1_MAX_DEVICES]; /* virtio device type of device i (2 blk, 4 rng, 19 vsock) */
  char args[T1_ARGS_SIZE];             /* NUL-terminated "key=value key=value" from the test */
};

#endif
