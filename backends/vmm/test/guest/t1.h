/**
 * Freestanding runtime for T1 guest programs: port I/O, serial output, exit, formatting, args,
 * a bump allocator over free guest RAM and the memory functions the compiler may call.
 * C11, no libc; runs at CPL3 with IOPL=3 (see t1_abi.h).
 */
#ifndef MOAT_T1_H
#define MOAT_T1_H

#include <stddef.h>
#include <stdint.h>

#include "t1_abi.h"

static inline void t1_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void t1_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t t1_inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void t1_barrier(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void t1_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint64_t t1_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t t1_mmio_read32(uint64_t addr) { return *(volatile uint32_t*)(uintptr_t)addr; }
static inline uint8_t t1_mmio_read8(uint64_t addr) { return *(volatile uint8_t*)(uintptr_t)addr; }
static inline void t1_mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t*)(uintptr_t)addr = v; }

void t1_exit(uint32_t status) __attribute__((noreturn));
void t1_putc(char c);
void t1_puts(const char* s);
void t1_put_u64(uint64_t v);
void t1_put_hex(uint64_t v);
/** Prints "FAIL: <msg>\n" and exits with `code`. */
void t1_fail(const char* msg, uint32_t code) __attribute__((noreturn));

/** Integer value of "key=<n>" in args, or `fallback`. */
uint64_t t1_arg(const struct t1_boot_info* info, const char* key, uint64_t fallback);
/** Index of the first device of virtio type `id` (or the `dev=` arg's index), -1 if none. */
int t1_find_device(const struct t1_boot_info* info, uint32_t id);
/** MMIO base of device `index`. */
uint64_t t1_device_base(const struct t1_boot_info* info, int index);

/** Bump allocator over [T1_FREE_RAM_START, mem_size); zeroed, `align` a power of two. */
void t1_heap_init(const struct t1_boot_info* info);
void* t1_alloc(uint64_t size, uint64_t align);

/** Spin for roughly `n` pause instructions. */
void t1_spin(uint64_t n);

void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
void* memmove(void* d, const void* s, size_t n);
int memcmp(const void* a, const void* b, size_t n);

#endif
