/**
 * T1 program garbage_descriptors: hands every virtio device it finds hostile descriptor chains —
 * buffers outside guest RAM, loops, oversized lengths, out-of-range indices, indirect descriptors —
 * and expects each device to set DEVICE_NEEDS_RESET (or fail the request) rather than take the VMM
 * down. After each case it resets the device; finally it proves the devices still work by doing a
 * good virtio-blk read (if a blk device exists). Prints "garbage_descriptors: ok" and exits 0.
 */
#include "t1.h"
#include "virtio.h"

enum { CASE_OUT_OF_RANGE, CASE_LOOP, CASE_SELF_LOOP, CASE_OVERSIZED, CASE_BAD_HEAD, CASE_BAD_NEXT, CASE_INDIRECT,
       CASE_AVAIL_AHEAD, CASE_COUNT };
static const char* const kCaseNames[CASE_COUNT] = {"out-of-range buffer", "loop", "self loop", "oversized length",
                                                   "head out of range", "next out of range", "indirect",
                                                   "avail index ahead"};

static uint64_t spins;

static int wait_needs_reset(uint64_t base) {
  for (uint64_t i = 0; i < spins; ++i) {
    if (virtio_status(base) & VIRTIO_STATUS_NEEDS_RESET) return 1;
    t1_pause();
  }
  return 0;
}

/** Sets the device up, plants one garbage case on `queue`, kicks, returns 1 if it went NEEDS_RESET. */
static int run_case(const struct t1_boot_info* info, uint64_t base, uint32_t id, uint16_t queue, int which) {
  if (virtio_init(base, id, 0) != 0) t1_fail("virtio init", 3);
  struct vq qs[3];
  uint16_t nq = id == 19 ? 3 : 1;
  for (uint16_t i = 0; i < nq; ++i)
    if (virtio_setup_queue(base, &qs[i], i, 16) != 0) t1_fail("queue setup", 4);
  virtio_driver_ok(base);
  struct vq* q = &qs[queue];
  volatile struct vq_desc* d = q->desc;
  uint64_t buf = (uint64_t)(uintptr_t)t1_alloc(4096, 4096);
  uint16_t wflag = (id == 19 && queue == 1) ? 0 : VIRTIO_DESC_F_WRITE;
  uint16_t head = 0;
  switch (which) {
    case CASE_OUT_OF_RANGE:
      d[0] = (struct vq_desc){info->mem_size - 16, 4096, wflag, 0};
      break;
    case CASE_LOOP:
      d[0] = (struct vq_desc){buf, 64, (uint16_t)(wflag | VIRTIO_DESC_F_NEXT), 1};
      d[1] = (struct vq_desc){buf, 64, (uint16_t)(wflag | VIRTIO_DESC_F_NEXT), 0};
      break;
    case CASE_SELF_LOOP:
      d[5] = (struct vq_desc){buf, 64, (uint16_t)(wflag | VIRTIO_DESC_F_NEXT), 5};
      head = 5;
      break;
    case CASE_OVERSIZED:
      d[0] = (struct vq_desc){buf, 0xfffffff0u, wflag, 0};
      break;
    case CASE_BAD_HEAD:
      head = 1000;
      break;
    case CASE_BAD_NEXT:
      d[0] = (struct vq_desc){buf, 64, (uint16_t)(wflag | VIRTIO_DESC_F_NEXT), 999};
      break;
    case CASE_INDIRECT:
      d[0] = (struct vq_desc){buf, 64, 4, 0};
      break;
    case CASE_AVAIL_AHEAD:
      q->avail[1] = 200;  // claims 200 new entries in a 16-entry ring
      break;
  }
  if (which != CASE_AVAIL_AHEAD) {
    uint16_t idx = q->avail[1];
    q->avail[2 + idx % q->size] = head;
    t1_barrier();
    q->avail[1] = (uint16_t)(idx + 1);
  }
  t1_barrier();
  vq_kick(q);
  int broke = wait_needs_reset(base);
  virtio_reset(base);
  if (virtio_status(base) != 0) t1_fail("device did not reset", 5);
  return broke;
}

static int good_blk_read(uint64_t base) {
  struct vq q;
  if (virtio_init(base, 2, 0) != 0 || virtio_setup_queue(base, &q, 0, 16) != 0) return 0;
  virtio_driver_ok(base);
  struct { uint32_t type, reserved; uint64_t sector; } *req = t1_alloc(16, 16);
  uint8_t* data = t1_alloc(512, 512);
  volatile uint8_t* status = t1_alloc(1, 1);
  *status = 0xff;
  struct vbuf bufs[3] = {{(uint64_t)(uintptr_t)req, 16, 0}, {(uint64_t)(uintptr_t)data, 512, 1},
                         {(uint64_t)(uintptr_t)status, 1, 1}};
  vq_add(&q, bufs, 3);
  vq_kick(&q);
  uint32_t len;
  return vq_wait_used(&q, &len, spins) >= 0 && *status == 0;
}

int t1_main(const struct t1_boot_info* info) {
  t1_heap_init(info);
  spins = t1_arg(info, "spins", 200000000ull);
  int failures = 0, tested = 0, blk = -1;
  for (uint32_t dev = 0; dev < info->device_count && dev < T1_MAX_DEVICES; ++dev) {
    uint32_t id = info->device_ids[dev];
    if (id != 2 && id != 4 && id != 19) continue;
    if (id == 2 && blk < 0) blk = (int)dev;
    uint64_t base = t1_device_base(info, (int)dev);
    // vsock: garbage on TX (device reads it on notify); blk/rng: their request queue.
    uint16_t queue = id == 19 ? 1 : 0;
    for (int c = 0; c < CASE_COUNT; ++c) {
      ++tested;
      int broke = run_case(info, base, id, queue, c);
      t1_puts(broke ? "  ok    " : "  FAIL  ");
      t1_puts("device ");
      t1_put_u64(dev);
      t1_puts(" (type ");
      t1_put_u64(id);
      t1_puts("): ");
      t1_puts(kCaseNames[c]);
      t1_puts(broke ? " -> NEEDS_RESET\n" : " -> not detected\n");
      failures += !broke;
    }
  }
  if (tested == 0) t1_fail("no virtio devices to test", 2);
  if (blk >= 0) {
    if (!good_blk_read(t1_device_base(info, blk))) t1_fail("virtio-blk does not work after the garbage cases", 6);
    t1_puts("  ok    virtio-blk still serves requests after reset\n");
  }
  if (failures) t1_fail("some garbage went undetected", 7);
  t1_puts("garbage_descriptors: ok\n");
  return 0;
}
