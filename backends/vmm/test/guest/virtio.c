/** Minimal freestanding virtio-mmio driver for T1 guest programs (see virtio.h). */
#include "virtio.h"

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0
#define R_CONFIG 0x100

uint32_t virtio_status(uint64_t base) { return t1_mmio_read32(base + R_STATUS); }
void virtio_reset(uint64_t base) { t1_mmio_write32(base + R_STATUS, 0); }

int virtio_init(uint64_t base, uint32_t expected_id, uint32_t features_low) {
  if (t1_mmio_read32(base + R_MAGIC) != 0x74726976 || t1_mmio_read32(base + R_VERSION) != 2) return -1;
  if (t1_mmio_read32(base + R_DEVICE_ID) != expected_id) return -2;
  virtio_reset(base);
  if (virtio_status(base) != 0) return -3;
  t1_mmio_write32(base + R_STATUS, VIRTIO_STATUS_ACK);
  t1_mmio_write32(base + R_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
  t1_mmio_write32(base + R_DEVICE_FEATURES_SEL, 1);
  if (!(t1_mmio_read32(base + R_DEVICE_FEATURES) & 1)) return -4;  // VERSION_1
  t1_mmio_write32(base + R_DEVICE_FEATURES_SEL, 0);
  uint32_t offered = t1_mmio_read32(base + R_DEVICE_FEATURES);
  t1_mmio_write32(base + R_DRIVER_FEATURES_SEL, 0);
  t1_mmio_write32(base + R_DRIVER_FEATURES, features_low & offered);
  t1_mmio_write32(base + R_DRIVER_FEATURES_SEL, 1);
  t1_mmio_write32(base + R_DRIVER_FEATURES, 1);
  t1_mmio_write32(base + R_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  if (!(virtio_status(base) & VIRTIO_STATUS_FEATURES_OK)) return -5;
  return 0;
}

static void write64(uint64_t reg, uint64_t v) {
  t1_mmio_write32(reg, (uint32_t)v);
  t1_mmio_write32(reg + 4, (uint32_t)(v >> 32));
}

int virtio_setup_queue(uint64_t base, struct vq* q, uint16_t index, uint16_t size) {
  t1_mmio_write32(base + R_QUEUE_SEL, index);
  uint32_t max = t1_mmio_read32(base + R_QUEUE_NUM_MAX);
  if (max == 0) return -1;
  if (size > max) size = (uint16_t)max;
  q->base = base;
  q->index = index;
  q->size = size;
  q->desc = t1_alloc(16ull * size, 4096);
  q->avail = t1_alloc(6 + 2ull * size, 4096);
  q->used = t1_alloc(6 + 8ull * size, 4096);
  q->last_used = 0;
  q->num_free = size;
  q->free_head = 0;
  for (uint16_t i = 0; i < size; ++i) q->desc[i].next = (uint16_t)(i + 1);
  q->avail[0] = 1;  // VRING_AVAIL_F_NO_INTERRUPT: we poll (no IDT at CPL3), spare the VMM the IRQ
  t1_mmio_write32(base + R_QUEUE_NUM, size);
  write64(base + R_QUEUE_DESC, (uint64_t)(uintptr_t)q->desc);
  write64(base + R_QUEUE_DRIVER, (uint64_t)(uintptr_t)q->avail);
  write64(base + R_QUEUE_DEVICE, (uint64_t)(uintptr_t)q->used);
  t1_mmio_write32(base + R_QUEUE_READY, 1);
  return 0;
}

void virtio_driver_ok(uint64_t base) {
  t1_mmio_write32(base + R_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                                       VIRTIO_STATUS_DRIVER_OK);
}

uint8_t virtio_config8(uint64_t base, uint32_t offset) { return t1_mmio_read8(base + R_CONFIG + offset); }
uint32_t virtio_config32(uint64_t base, uint32_t offset) { return t1_mmio_read32(base + R_CONFIG + offset); }

int vq_add(struct vq* q, const struct vbuf* bufs, int count) {
  if (count <= 0 || count > q->num_free) return -1;
  uint16_t head = q->free_head, i = head, last = head;
  for (int k = 0; k < count; ++k) {
    q->desc[i].addr = bufs[k].addr;
    q->desc[i].len = bufs[k].len;
    q->desc[i].flags = (uint16_t)((k + 1 < count ? VIRTIO_DESC_F_NEXT : 0) | (bufs[k].writable ? VIRTIO_DESC_F_WRITE : 0));
    last = i;
    i = q->desc[i].next;
  }
  q->free_head = i;
  q->num_free = (uint16_t)(q->num_free - count);
  (void)last;
  uint16_t idx = q->avail[1];
  q->avail[2 + idx % q->size] = head;
  t1_barrier();
  q->avail[1] = (uint16_t)(idx + 1);
  t1_barrier();
  return head;
}

void vq_kick(struct vq* q) {
  t1_barrier();  // the avail index must be visible before we read the device's flag
  if (q->used[0] & 1) return;  // VRING_USED_F_NO_NOTIFY: the device is draining and will see it
  t1_mmio_write32(q->base + R_QUEUE_NOTIFY, q->index);
}

int vq_get_used(struct vq* q, uint32_t* len) {
  uint16_t used_idx = (uint16_t)(q->used[0] >> 16);
  if (used_idx == q->last_used) return -1;
  t1_barrier();
  volatile uint32_t* elem = q->used + 1 + 2 * (q->last_used % q->size);
  uint16_t head = (uint16_t)elem[0];
  if (len) *len = elem[1];
  q->last_used++;
  // Return the chain's descriptors to the free list.
  uint16_t i = head, n = 1;
  while (q->desc[i].flags & VIRTIO_DESC_F_NEXT) {
    i = q->desc[i].next;
    ++n;
  }
  q->desc[i].next = q->free_head;
  q->free_head = head;
  q->num_free = (uint16_t)(q->num_free + n);
  return head;
}

int vq_wait_used(struct vq* q, uint32_t* len, uint64_t spins) {
  for (uint64_t s = 0; s < spins; ++s) {
    int head = vq_get_used(q, len);
    if (head >= 0) return head;
    t1_pause();
  }
  return -1;
}
