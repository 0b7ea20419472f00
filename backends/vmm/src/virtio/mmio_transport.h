/**
 * VirtioMmioTransport: the virtio-mmio version 2 ("modern") register interface of one device, as an
 * MMIO BusDevice (window of kWindowSize bytes; registers 0x000-0x0ff, device config from 0x100).
 *
 * Handles magic/version/ids, 64-bit feature negotiation (selectors), per-queue set-up
 * (QueueSel/NumMax/Num/Ready/Desc/Driver/Device), Status (FEATURES_OK checks, DRIVER_OK activates
 * the device, 0 resets it), InterruptStatus/InterruptACK, ConfigGeneration, and QueueNotify, which
 * is handed to the device on the EventLoop thread. Interrupts are raised on the IrqLine with
 * trigger() (edge) whenever InterruptStatus gains a bit. Guest misuse (bad queue size, unaligned
 * access, activation failure) sets DEVICE_NEEDS_RESET instead of failing the VMM.
 *
 * Locking: one transport mutex for registers; the transport calls device activate()/reset() under
 * it; the device protects its own state; InterruptStatus/Status are atomics the device may change
 * from the event thread (lock order: transport -> device, never the other way).
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "bus/device.h"
#include "bus/irq.h"
#include "event/event_loop.h"
#include "memory/guest_memory.h"
#include "virtio/virtio_device.h"

namespace moat::vmm {

/** Register offsets (virtio 1.x §4.2.2). */
namespace mmio {
constexpr uint64_t kMagicValue = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c;
constexpr uint64_t kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014;
constexpr uint64_t kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024;
constexpr uint64_t kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044;
constexpr uint64_t kQueueNotify = 0x050, kInterruptStatus = 0x060, kInterruptAck = 0x064;
constexpr uint64_t kStatus = 0x070;
constexpr uint64_t kQueueDescLow = 0x080, kQueueDescHigh = 0x084;
constexpr uint64_t kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094;
constexpr uint64_t kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4;
constexpr uint64_t kConfigGeneration = 0x0fc, kConfig = 0x100;
constexpr uint32_t kMagic = 0x74726976;  // "virt"
constexpr uint32_t kVendor = 0x5441'4f4d; // "MOAT"
}  // namespace mmio

/** Device status bits (virtio 1.x §2.1). */
enum VirtioStatus : uint32_t {
  kStatusAcknowledge = 1,
  kStatusDriver = 2,
  kStatusDriverOk = 4,
  kStatusFeaturesOk = 8,
  kStatusNeedsReset = 64,
  kStatusFailed = 128,
};

class VirtioMmioTransport : public BusDevice {
 public:
  static constexpr uint64_t kWindowSize = 0x1000;

  VirtioMmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                      std::shared_ptr<IrqLine> irq, EventLoop& loop);
  ~VirtioMmioTransport() override;

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  /** Current Status register (tests and diagnostics). */
  uint32_t status() const;
  /** Last reason the device was marked broken ("" if never). */
  std::string broken_reason() const;
  VirtioDevice& device() { return *device_; }

 private:
  class Interrupt;
  uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);
  void write_status(uint32_t value);
  void reset_locked();
  void notify(uint32_t queue);

  std::shared_ptr<VirtioDevice> device_;
  const GuestMemory& memory_;
  EventLoop& loop_;
  std::shared_ptr<Interrupt> interrupt_;

  mutable std::mutex mutex_;
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  std::vector<QueueConfig> queues_;
  bool activated_ = false;
};

/** Renders the kernel command-line fragment announcing a virtio-mmio device:
 *  "virtio_mmio.device=4K@0xd0000000:5". */
std::string virtio_mmio_cmdline(uint64_t base, uint64_t size, uint32_t irq);

}  // namespace moat::vmm
