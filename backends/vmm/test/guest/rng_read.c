/**
 * T1 program rng_read: reads `bytes` (default 4096) twice from virtio-rng and checks the device
 * filled the buffers (used length), that they are not all zero and that the two reads differ.
 * Prints "rng_read: ok" and exits 0.
 */
#include "t1.h"
#include "virtio.h"

static uint32_t read_random(struct vq* q, uint8_t* buf, uint32_t len) {
  struct vbuf b = {(uint64_t)(uintptr_t)buf, len, 1};
  if (vq_add(q, &b, 1) < 0) t1_fail("rng: queue full", 3);
  vq_kick(q);
  uint32_t used = 0;
  if (vq_wait_used(q, &used, 2000000000ull) < 0) t1_fail("rng: request timed out", 4);
  return used;
}

int t1_main(const struct t1_boot_info* info) {
  t1_heap_init(info);
  int dev = t1_find_device(info, 4);
  if (dev < 0) t1_fail("no virtio-rng device", 2);
  uint64_t base = t1_device_base(info, dev);
  struct vq q;
  if (virtio_init(base, 4, 0) != 0 || virtio_setup_queue(base, &q, 0, 16) != 0) t1_fail("rng: init", 5);
  virtio_driver_ok(base);
  uint32_t len = (uint32_t)t1_arg(info, "bytes", 4096);
  uint8_t* a = t1_alloc(len, 64);
  uint8_t* b = t1_alloc(len, 64);
  if (read_random(&q, a, len) != len || read_random(&q, b, len) != len) t1_fail("rng: short fill", 6);
  int nonzero = 0;
  for (uint32_t i = 0; i < len; ++i) nonzero |= a[i];
  if (!nonzero) t1_fail("rng: all zero", 7);
  if (len >= 16 && memcmp(a, b, len) == 0) t1_fail("rng: two reads returned the same bytes", 8);
  t1_puts("rng_read: ");
  t1_put_u64(2ull * len);
  t1_puts(" random bytes\nrng_read: ok\n");
  return 0;
}
