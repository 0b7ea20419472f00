/**
 * VirtioRng: virtio-rng / entropy device (type 4). One request queue; every device-writable buffer
 * is filled from getrandom(2) (bounded per request so a huge buffer cannot stall the event thread).
 */
#pragma once

#include <mutex>

#include "virtio/queue.h"
#include "virtio/virtio_device.h"

namespace moat::vmm {

class VirtioRng : public VirtioDevice {
 public:
  static constexpr uint32_t kMaxBytesPerRequest = 64 * 1024;

  uint32_t device_type() const override { return kVirtioRng; }
  uint64_t device_features() const override { return kVirtioFVersion1; }
  uint16_t num_queues() const override { return 1; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  bool activate(ActivateContext context, std::string& error) override;
  void queue_notify(uint16_t index) override;
  void reset() override;
  std::string_view name() const override { return "rng"; }

 private:
  uint32_t fill(const DescriptorChain& chain);
  std::mutex mutex_;
  ActivateContext context_;
  SplitQueue queue_;
  bool active_ = false;
};

}  // namespace moat::vmm
