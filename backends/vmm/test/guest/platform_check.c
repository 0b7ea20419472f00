/**
 * T1 program platform_check: what a Linux guest's boot probes early and loses seconds on when it
 * is wrong. CPUID: the KVM signature "KVMKVMKVM" at 0x40000000 (max leaf >= 0x40000001), kvmclock
 * (CLOCKSOURCE2) among the KVM features at 0x40000001, the hypervisor bit, the TSC-deadline bit
 * in leaf 1 and ARAT in leaf 6 (without them Linux sets up the PIT, and without TSC-deadline it
 * calibrates the LAPIC timer against it and, where that fails, ticks from the PIT). The i8042
 * status port 0x64: output buffer full with input buffer empty, so Linux's probe reports "No
 * controller found" at once instead of waiting out command timeouts. `deadline=0` skips the
 * TSC-deadline check (hosts that cannot emulate it). Prints "platform_check: ok" and exits 0.
 */
#include "t1.h"

#define I8042_STATUS_PORT 0x64
#define I8042_OBF 0x01
#define I8042_IBF 0x02

struct regs {
  uint32_t a, b, c, d;
};

static struct regs cpuid(uint32_t leaf, uint32_t sub) {
  struct regs r;
  __asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
  return r;
}

static void show(uint32_t leaf, struct regs r) {
  t1_puts("platform_check: cpuid ");
  t1_put_hex(leaf);
  t1_puts(" eax=");
  t1_put_hex(r.a);
  t1_puts(" ebx=");
  t1_put_hex(r.b);
  t1_puts(" ecx=");
  t1_put_hex(r.c);
  t1_puts(" edx=");
  t1_put_hex(r.d);
  t1_putc('\n');
}

int t1_main(const struct t1_boot_info* info) {
  struct regs basic = cpuid(1, 0);
  struct regs power = cpuid(6, 0);
  struct regs sig = cpuid(0x40000000, 0);
  struct regs features = cpuid(0x40000001, 0);
  uint8_t i8042 = t1_inb(I8042_STATUS_PORT);
  show(1, basic);
  show(6, power);
  show(0x40000000, sig);
  show(0x40000001, features);
  t1_puts("platform_check: i8042 status ");
  t1_put_hex(i8042);
  t1_putc('\n');

  if (!(basic.c & (1u << 31))) t1_fail("leaf 1: hypervisor bit clear", 2);
  /* "KVMKVMKVM\0\0\0" in ebx, ecx, edx */
  if (sig.b != 0x4b4d564b || sig.c != 0x564b4d56 || sig.d != 0x4d) t1_fail("0x40000000: no KVM signature", 3);
  if (sig.a < 0x40000001) t1_fail("0x40000000: max hypervisor leaf below 0x40000001", 4);
  if (!(features.a & (1u << 3))) t1_fail("0x40000001: no kvmclock (KVM_FEATURE_CLOCKSOURCE2)", 5);
  if (t1_arg(info, "deadline", 1) && !(basic.c & (1u << 24))) t1_fail("leaf 1: no TSC-deadline timer", 6);
  if (!(power.a & (1u << 2))) t1_fail("leaf 6: no ARAT (always-running APIC timer)", 7);
  if ((i8042 & (I8042_OBF | I8042_IBF)) != I8042_OBF) t1_fail("i8042 status: want output full, input empty", 8);
  t1_puts("platform_check: ok\n");
  return 0;
}
