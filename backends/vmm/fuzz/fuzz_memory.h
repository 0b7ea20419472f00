/**
 * Shared fuzzing fixture: 64 KiB of fake guest RAM filled from the fuzzer's input, with split
 * queues at fixed addresses, so descriptor tables, rings and buffers are all attacker-chosen.
 */
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "memory/guest_memory.h"
#include "virtio/virtio_device.h"

namespace moat::vmm::fuzz {

constexpr uint64_t kRamSize = 64 * 1024;
constexpr uint16_t kQueueSize = 16;

/** Queue i: descriptors at i*0x400, avail at +0x100, used at +0x200. */
inline QueueConfig queue_at(unsigned i) {
  uint64_t base = i * 0x400ull;
  return QueueConfig{kQueueSize, true, base, base + 0x100, base + 0x200};
}

struct FuzzRam {
  FuzzRam(const uint8_t* data, size_t size) : bytes(kRamSize, 0) {
    std::memcpy(bytes.data(), data, size < kRamSize ? size : kRamSize);
    memory = GuestMemory::fake(0, bytes);
  }
  std::vector<uint8_t> bytes;
  std::unique_ptr<GuestMemory> memory;
};

class NullInterrupt : public VirtioInterrupt {
 public:
  void signal_used_queue(uint16_t) override {}
  void signal_config_change() override {}
  void mark_broken(std::string_view) override { broken = true; }
  bool broken = false;
};

}  // namespace moat::vmm::fuzz
