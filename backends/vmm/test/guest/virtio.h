/**
 * Minimal freestanding virtio-mmio (v2) driver for T1 guest programs: device initialisation,
 * split virtqueues in guest RAM, submit and poll-used (no interrupts: CPL3 has no IDT).
 */
#ifndef MOAT_T1_VIRTIO_H
#define MOAT_T1_VIRTIO_H

#include <stdint.h>

#include "t1.h"

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_DESC_F_NEXT 1
#define VIRTIO_DESC_F_WRITE 2

struct vq_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct vq {
  uint64_t base;  // device MMIO base
  uint16_t index, size, num_free, free_head, last_used;
  volatile struct vq_desc* desc;
  volatile uint16_t* avail;  // flags, idx, ring[size]
  volatile uint32_t* used;   // flags|idx (16+16), then {id, len} pairs
};

struct vbuf {
  uint64_t addr;
  uint32_t len;
  int writable;
};

/** Resets the device and negotiates VERSION_1 plus `features_low` (bits 0-31). 0 on success. */
int virtio_init(uint64_t base, uint32_t expected_id, uint32_t features_low);
/** Allocates and registers queue `index` with `size` descriptors. 0 on success. */
int virtio_setup_queue(uint64_t base, struct vq* q, uint16_t index, uint16_t size);
/** Sets DRIVER_OK. */
void virtio_driver_ok(uint64_t base);
uint32_t virtio_status(uint64_t base);
void virtio_reset(uint64_t base);
/** Device config byte at `offset`. */
uint8_t virtio_config8(uint64_t base, uint32_t offset);
uint32_t virtio_config32(uint64_t base, uint32_t offset);

/** Adds a chain; returns its head or -1 if not enough free descriptors. Does not notify. */
int vq_add(struct vq* q, const struct vbuf* bufs, int count);
void vq_kick(struct vq* q);
/** Next used chain: returns head (and used length) or -1. Frees the chain's descriptors. */
int vq_get_used(struct vq* q, uint32_t* len);
/** vq_get_used, spinning up to `spins` iterations; -1 on timeout. */
int vq_wait_used(struct vq* q, uint32_t* len, uint64_t spins);

#endif
