/**
 * VirtioMmioTransport implementation: the register state machine of virtio-mmio v2 and the
 * interrupt/broken-device plumbing between a VirtioDevice and its IrqLine.
 */
#include "virtio/mmio_transport.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace moat::vmm {

/** The VirtioInterrupt a device gets: shares InterruptStatus/Status with the transport. */
class VirtioMmioTransport::Interrupt : public VirtioInterrupt {
 public:
  explicit Interrupt(std::shared_ptr<IrqLine> irq) : irq_(std::move(irq)) {}
  void signal_used_queue(uint16_t) override { raise(1); }
  void signal_config_change() override { raise(2); }
  void mark_broken(std::string_view reason) override {
    {
      std::lock_guard lock(reason_mutex_);
      if (reason_.empty()) reason_ = std::string(reason);
    }
    status.fetch_or(kStatusNeedsReset);
    raise(2);
  }
  void raise(uint32_t bit) {
    interrupt_status.fetch_or(bit);
    if (irq_) irq_->trigger();
  }
  std::string reason() const {
    std::lock_guard lock(reason_mutex_);
    return reason_;
  }
  void clear_reason() {
    std::lock_guard lock(reason_mutex_);
    reason_.clear();
  }

  std::atomic<uint32_t> interrupt_status{0};
  std::atomic<uint32_t> status{0};
  std::atomic<uint32_t> config_generation{0};

 private:
  std::shared_ptr<IrqLine> irq_;
  mutable std::mutex reason_mutex_;
  std::string reason_;
};

VirtioMmioTransport::VirtioMmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                                         std::shared_ptr<IrqLine> irq, EventLoop& loop)
    : device_(std::move(device)),
      memory_(memory),
      loop_(loop),
      interrupt_(std::make_shared<Interrupt>(std::move(irq))),
      queues_(device_->num_queues()) {}

VirtioMmioTransport::~VirtioMmioTransport() {
  std::lock_guard lock(mutex_);
  if (activated_) device_->reset();
}

uint32_t VirtioMmioTransport::status() const { return interrupt_->status.load(); }
std::string VirtioMmioTransport::broken_reason() const { return interrupt_->reason(); }

void VirtioMmioTransport::read(uint64_t offset, std::span<uint8_t> data) {
  std::memset(data.data(), 0, data.size());
  if (offset >= mmio::kConfig) {
    std::lock_guard lock(mutex_);
    device_->read_config(offset - mmio::kConfig, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;  // registers are 32-bit, aligned (spec §4.2.2.2)
  uint32_t value;
  {
    std::lock_guard lock(mutex_);
    value = read_register(offset);
  }
  std::memcpy(data.data(), &value, 4);
}

void VirtioMmioTransport::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset >= mmio::kConfig) {
    std::lock_guard lock(mutex_);
    device_->write_config(offset - mmio::kConfig, data);
    interrupt_->config_generation.fetch_add(1);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;
  uint32_t value;
  std::memcpy(&value, data.data(), 4);
  if (offset == mmio::kQueueNotify) {
    notify(value);  // no transport lock needed: hands off to the event loop
    return;
  }
  std::lock_guard lock(mutex_);
  write_register(offset, value);
}

uint32_t VirtioMmioTransport::read_register(uint64_t offset) {
  QueueConfig* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  switch (offset) {
    case mmio::kMagicValue:
      return mmio::kMagic;
    case mmio::kVersion:
      return 2;
    case mmio::kDeviceId:
      return device_->device_type();
    case mmio::kVendorId:
      return mmio::kVendor;
    case mmio::kDeviceFeatures: {
      uint64_t f = device_->device_features() | kVirtioFVersion1;
      return device_features_sel_ == 0 ? static_cast<uint32_t>(f)
             : device_features_sel_ == 1 ? static_cast<uint32_t>(f >> 32) : 0;
    }
    case mmio::kQueueNumMax:
      return q ? device_->queue_max_size() : 0;
    case mmio::kQueueReady:
      return q && q->ready ? 1 : 0;
    case mmio::kInterruptStatus:
      return interrupt_->interrupt_status.load();
    case mmio::kStatus:
      return interrupt_->status.load();
    case mmio::kConfigGeneration:
      return interrupt_->config_generation.load();
    default:
      return 0;
  }
}

void VirtioMmioTransport::write_register(uint64_t offset, uint32_t value) {
  QueueConfig* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  const uint32_t status = interrupt_->status.load();
  // Queue and feature registers are frozen once the device runs (driver bug otherwise: ignore).
  const bool frozen = activated_ || (status & kStatusDriverOk);
  auto set_low = [](uint64_t& field, uint32_t v) { field = (field & ~0xffffffffull) | v; };
  auto set_high = [](uint64_t& field, uint32_t v) { field = (field & 0xffffffffull) | (uint64_t{v} << 32); };
  switch (offset) {
    case mmio::kDeviceFeaturesSel:
      device_features_sel_ = value;
      return;
    case mmio::kDriverFeaturesSel:
      driver_features_sel_ = value;
      return;
    case mmio::kDriverFeatures:
      if (frozen || (status & kStatusFeaturesOk)) return;
      if (driver_features_sel_ == 0) set_low(driver_features_, value);
      else if (driver_features_sel_ == 1) set_high(driver_features_, value);
      return;
    case mmio::kQueueSel:
      queue_sel_ = value;
      return;
    case mmio::kQueueNum:
      if (q && !frozen) q->size = static_cast<uint16_t>(value > 0xffff ? 0 : value);
      return;
    case mmio::kQueueReady:
      // Clearing is allowed any time (Linux's vm_del_vq writes 0 and reads it back).
      if (q && (!frozen || value == 0)) q->ready = value == 1;
      return;
    case mmio::kQueueDescLow: if (q && !frozen) set_low(q->desc_table, value); return;
    case mmio::kQueueDescHigh: if (q && !frozen) set_high(q->desc_table, value); return;
    case mmio::kQueueDriverLow: if (q && !frozen) set_low(q->avail_ring, value); return;
    case mmio::kQueueDriverHigh: if (q && !frozen) set_high(q->avail_ring, value); return;
    case mmio::kQueueDeviceLow: if (q && !frozen) set_low(q->used_ring, value); return;
    case mmio::kQueueDeviceHigh: if (q && !frozen) set_high(q->used_ring, value); return;
    case mmio::kInterruptAck:
      interrupt_->interrupt_status.fetch_and(~value);
      return;
    case mmio::kStatus:
      write_status(value);
      return;
    default:
      return;
  }
}

void VirtioMmioTransport::write_status(uint32_t value) {
  if (value == 0) {
    reset_locked();
    return;
  }
  const uint32_t old = interrupt_->status.load();
  uint32_t next = value | (old & kStatusNeedsReset);  // NEEDS_RESET sticks until reset
  if ((value & kStatusFeaturesOk) && !(old & kStatusFeaturesOk)) {
    const uint64_t offered = device_->device_features() | kVirtioFVersion1;
    // Modern-only device: the driver must accept VERSION_1 and nothing we did not offer.
    if ((driver_features_ & ~offered) || !(driver_features_ & kVirtioFVersion1)) next &= ~kStatusFeaturesOk;
  }
  interrupt_->status.store(next);
  if ((next & kStatusDriverOk) && !(old & kStatusDriverOk) && !activated_) {
    std::string error;
    if (!(next & kStatusFeaturesOk)) {
      interrupt_->mark_broken("DRIVER_OK without FEATURES_OK");
      return;
    }
    for (size_t i = 0; i < queues_.size(); ++i) {
      const auto& q = queues_[i];
      if (q.ready && (q.size == 0 || q.size > device_->queue_max_size() || (q.size & (q.size - 1)))) {
        interrupt_->mark_broken("queue " + std::to_string(i) + " has invalid size " + std::to_string(q.size));
        return;
      }
    }
    ActivateContext context{&memory_, queues_, driver_features_, interrupt_};
    if (!device_->activate(std::move(context), error)) {
      interrupt_->mark_broken(std::string(device_->name()) + " activation failed: " + error);
      return;
    }
    activated_ = true;
  }
}

void VirtioMmioTransport::reset_locked() {
  if (activated_) device_->reset();
  activated_ = false;
  driver_features_ = 0;
  device_features_sel_ = driver_features_sel_ = queue_sel_ = 0;
  for (auto& q : queues_) q = QueueConfig{};
  interrupt_->interrupt_status.store(0);
  interrupt_->status.store(0);
  interrupt_->clear_reason();
}

void VirtioMmioTransport::notify(uint32_t queue) {
  if (queue >= device_->num_queues()) return;
  std::weak_ptr<VirtioDevice> weak = device_;
  loop_.post([weak, queue] {
    if (auto device = weak.lock()) device->queue_notify(static_cast<uint16_t>(queue));
  });
}

std::string virtio_mmio_cmdline(uint64_t base, uint64_t size, uint32_t irq) {
  char buf[96];
  if (size % 1024 == 0) {
    std::snprintf(buf, sizeof buf, "virtio_mmio.device=%" PRIu64 "K@0x%" PRIx64 ":%u", size / 1024, base, irq);
  } else {
    std::snprintf(buf, sizeof buf, "virtio_mmio.device=%" PRIu64 "@0x%" PRIx64 ":%u", size, base, irq);
  }
  return buf;
}

}  // namespace moat::vmm
