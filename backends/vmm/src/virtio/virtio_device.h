/**
 * VirtioDevice: what a virtio device type (vsock, blk, rng, ...) implements; the transport
 * (virtio-mmio today, PCI later) drives it.
 *
 * Life cycle: the transport negotiates features and collects queue addresses from the driver, then
 * on DRIVER_OK calls `activate()` with the guest memory, the queue configurations and an interrupt
 * handle. Afterwards `queue_notify(i)` is called on the machine's EventLoop thread whenever the
 * driver kicks queue i. `reset()` (driver writes 0 to Status) must synchronously stop all use of
 * guest memory and queues. A device that detects guest misbehaviour it cannot fail per request calls
 * `interrupt->mark_broken(reason)` (virtio DEVICE_NEEDS_RESET) and stops processing — it never
 * crashes the VMM.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memory/guest_memory.h"

namespace moat::vmm {

/** Virtio device type ids (virtio 1.x §5). */
enum VirtioDeviceType : uint32_t {
  kVirtioBlock = 2,
  kVirtioRng = 4,
  kVirtioVsock = 19,
};

/** Feature bits shared by all device types. */
constexpr uint64_t kVirtioFVersion1 = 1ull << 32;
constexpr uint64_t kVirtioRingFIndirectDesc = 1ull << 28;
constexpr uint64_t kVirtioRingFEventIdx = 1ull << 29;

/** One queue as the driver configured it through the transport. */
struct QueueConfig {
  uint16_t size = 0;        ///< number of descriptors (power of two, <= max size)
  bool ready = false;       ///< QueueReady written 1
  uint64_t desc_table = 0;  ///< guest-physical addresses
  uint64_t avail_ring = 0;
  uint64_t used_ring = 0;
};

/** Handed to a device at activation: how it signals the driver. Thread-safe. */
class VirtioInterrupt {
 public:
  virtual ~VirtioInterrupt();
  /** Used-buffer notification for queue `index` (sets InterruptStatus bit 0, raises the IRQ). */
  virtual void signal_used_queue(uint16_t index) = 0;
  /** Configuration-change notification (InterruptStatus bit 1). */
  virtual void signal_config_change() = 0;
  /** Sets DEVICE_NEEDS_RESET, raises a config-change interrupt and records `reason` for logs. */
  virtual void mark_broken(std::string_view reason) = 0;
};

struct ActivateContext {
  const GuestMemory* memory = nullptr;
  std::vector<QueueConfig> queues;  ///< one per queue, index = queue number
  uint64_t driver_features = 0;     ///< accepted features (subset of device_features())
  std::shared_ptr<VirtioInterrupt> interrupt;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice();
  virtual uint32_t device_type() const = 0;
  /** Offered features; must include kVirtioFVersion1 (modern only). */
  virtual uint64_t device_features() const = 0;
  virtual uint16_t num_queues() const = 0;
  virtual uint16_t queue_max_size() const { return 256; }
  /** Device-specific configuration space (offset from 0x100 of the mmio window). */
  virtual void read_config(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write_config(uint64_t /*offset*/, std::span<const uint8_t> /*data*/) {}
  /** Starts the device; false + `error` refuses DRIVER_OK (the transport marks it broken). */
  virtual bool activate(ActivateContext context, std::string& error) = 0;
  /** The driver kicked queue `index` (called on the EventLoop thread). */
  virtual void queue_notify(uint16_t index) = 0;
  /** Back to the initial state; stops all guest-memory use before returning. */
  virtual void reset() = 0;
  /** Short name for logs ("vsock", "blk", "rng"). */
  virtual std::string_view name() const = 0;
};

}  // namespace moat::vmm
