/**
 * T1 program serial_hello: checks the boot info, prints a greeting (and the args) on the 8250 and
 * exits 0 through the exit port. The smallest end-to-end check of the T1 ABI.
 */
#include "t1.h"

int t1_main(const struct t1_boot_info* info) {
  if (info->magic != T1_BOOT_MAGIC) t1_fail("bad boot info magic", 2);
  t1_puts("hello from moat T1 guest\n");
  t1_puts("mem_size=");
  t1_put_u64(info->mem_size);
  t1_puts(" devices=");
  t1_put_u64(info->device_count);
  t1_puts(" args=");
  t1_puts(info->args);
  t1_putc('\n');
  return (int)t1_arg(info, "exit", 0);
}
