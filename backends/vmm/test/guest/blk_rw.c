/**
 * T1 program blk_rw: drives virtio-blk. Read-write disk (default): writes a pattern to `sectors`
 * sectors (default 256) starting at `start`, flushes, reads back and verifies, asks GET_ID, and
 * checks an out-of-range read fails with IOERR. With `ro=1`: expects VIRTIO_BLK_F_RO, a write
 * failing with IOERR and reads succeeding. Prints "blk_rw: ok" and exits 0 on success.
 */
#include "t1.h"
#include "virtio.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_F_RO (1u << 5)
#define BLK_F_FLUSH (1u << 9)

struct blk_req {
  uint32_t type, reserved;
  uint64_t sector;
};

static struct vq q;
static struct blk_req* req;
static volatile uint8_t* status;

static uint8_t submit(uint32_t type, uint64_t sector, void* data, uint32_t len, int device_writes) {
  req->type = type;
  req->reserved = 0;
  req->sector = sector;
  *status = 0xff;
  struct vbuf bufs[3] = {{(uint64_t)(uintptr_t)req, sizeof *req, 0}};
  int n = 1;
  if (len) bufs[n++] = (struct vbuf){(uint64_t)(uintptr_t)data, len, device_writes};
  bufs[n++] = (struct vbuf){(uint64_t)(uintptr_t)status, 1, 1};
  if (vq_add(&q, bufs, n) < 0) t1_fail("queue full", 3);
  vq_kick(&q);
  uint32_t used_len;
  if (vq_wait_used(&q, &used_len, 2000000000ull) < 0) t1_fail("request timed out", 4);
  return *status;
}

int t1_main(const struct t1_boot_info* info) {
  t1_heap_init(info);
  int dev = t1_find_device(info, 2);
  if (dev < 0) t1_fail("no virtio-blk device", 2);
  uint64_t base = t1_device_base(info, dev);
  const int read_only = (int)t1_arg(info, "ro", 0);
  if (virtio_init(base, 2, BLK_F_RO | BLK_F_FLUSH) != 0) t1_fail("virtio init", 5);
  if (virtio_setup_queue(base, &q, 0, 64) != 0) t1_fail("queue setup", 6);
  virtio_driver_ok(base);
  req = t1_alloc(sizeof *req, 16);
  status = t1_alloc(1, 1);
  const uint64_t capacity = virtio_config32(base, 0) | ((uint64_t)virtio_config32(base, 4) << 32);
  t1_puts("blk_rw: capacity=");
  t1_put_u64(capacity);
  t1_puts(" sectors\n");

  uint32_t sectors = (uint32_t)t1_arg(info, "sectors", 256);
  uint64_t start = t1_arg(info, "start", 0);
  if (start + sectors > capacity) t1_fail("disk too small for the requested range", 7);
  uint32_t bytes = sectors * 512;
  uint8_t* out = t1_alloc(bytes, 4096);
  uint8_t* in = t1_alloc(bytes, 4096);
  for (uint32_t i = 0; i < bytes; ++i) out[i] = (uint8_t)(i * 31 + (i >> 9) + 7);

  t1_mmio_write32(base + 0x014, 0);  // DeviceFeaturesSel = 0
  uint32_t features = t1_mmio_read32(base + 0x010);
  if (read_only) {
    if (!(features & BLK_F_RO)) t1_fail("read-only disk does not offer VIRTIO_BLK_F_RO", 8);
    if (submit(BLK_T_OUT, start, out, 512, 0) != 1) t1_fail("write to a read-only disk did not fail with IOERR", 9);
    if (submit(BLK_T_IN, start, in, bytes, 1) != 0) t1_fail("read from read-only disk failed", 10);
    t1_puts("blk_rw: read-only ok\n");
    t1_puts("blk_rw: ok\n");
    return 0;
  }
  if (features & BLK_F_RO) t1_fail("read-write disk offers VIRTIO_BLK_F_RO", 11);
  // Write in 32-sector requests (several descriptors in flight is not needed; one at a time).
  for (uint32_t s = 0; s < sectors; s += 32) {
    uint32_t n = sectors - s < 32 ? sectors - s : 32;
    if (submit(BLK_T_OUT, start + s, out + s * 512, n * 512, 0) != 0) t1_fail("write failed", 12);
  }
  if (submit(BLK_T_FLUSH, 0, 0, 0, 0) != 0) t1_fail("flush failed", 13);
  if (submit(BLK_T_IN, start, in, bytes, 1) != 0) t1_fail("read failed", 14);
  if (memcmp(in, out, bytes) != 0) t1_fail("read-back data differs from what was written", 15);
  char id[21] = {0};
  if (submit(BLK_T_GET_ID, 0, id, 20, 1) != 0) t1_fail("GET_ID failed", 16);
  t1_puts("blk_rw: id=");
  t1_puts(id);
  t1_putc('\n');
  if (submit(BLK_T_IN, capacity, in, 512, 1) != 1) t1_fail("read past the end did not fail with IOERR", 17);
  if (submit(77, 0, 0, 0, 0) != 2) t1_fail("unknown request type did not fail with UNSUPP", 18);
  t1_puts("blk_rw: wrote, flushed and verified ");
  t1_put_u64(bytes);
  t1_puts(" bytes\nblk_rw: ok\n");
  return 0;
}
