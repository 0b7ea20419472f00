/**
 * Test helpers: a RAM buffer posing as guest memory and a minimal virtqueue *driver* that lays out
 * split rings in it, so device code can be exercised exactly as a guest would drive it.
 */
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memory/guest_memory.h"
#include "virtio/virtio_device.h"

namespace moat::vmm::test {

/** 4 MiB of fake guest RAM at guest-physical 0. */
struct FakeRam {
  explicit FakeRam(size_t size = 4 << 20) : bytes(size, 0), memory(GuestMemory::fake(0, bytes)) {}
  std::vector<uint8_t> bytes;
  std::unique_ptr<GuestMemory> memory;
};

struct Buffer {
  uint64_t gpa;
  uint32_t len;
  bool writable;
};

/** Driver side of one split queue placed at `base` in fake RAM. */
class FakeQueue {
 public:
  FakeQueue(const GuestMemory& memory, uint64_t base, uint16_t size)
      : memory_(memory), size_(size), desc_(base), avail_(base + 16ull * size),
        used_((avail_ + 6 + 2ull * size + 3) & ~3ull) {}

  QueueConfig config() const { return QueueConfig{size_, true, desc_, avail_, used_}; }

  void write_desc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    uint8_t raw[16];
    std::memcpy(raw, &addr, 8);
    std::memcpy(raw + 8, &len, 4);
    std::memcpy(raw + 12, &flags, 2);
    std::memcpy(raw + 14, &next, 2);
    memory_.write(desc_ + 16ull * index, raw);
  }

  /** Puts `head` in the available ring and bumps the index. */
  void publish(uint16_t head) {
    memory_.write_obj<uint16_t>(avail_ + 4 + 2ull * (avail_idx_ % size_), head);
    ++avail_idx_;
    memory_.write_obj<uint16_t>(avail_ + 2, avail_idx_);
  }

  /** Writes a chain of buffers into free descriptors and publishes it; returns the head. */
  uint16_t add_chain(const std::vector<Buffer>& buffers) {
    uint16_t head = next_desc_;
    for (size_t i = 0; i < buffers.size(); ++i) {
      uint16_t index = static_cast<uint16_t>((next_desc_ + i) % size_);
      uint16_t next = static_cast<uint16_t>((index + 1) % size_);
      uint16_t flags = static_cast<uint16_t>((i + 1 < buffers.size() ? 1 : 0) | (buffers[i].writable ? 2 : 0));
      write_desc(index, buffers[i].gpa, buffers[i].len, flags, next);
    }
    next_desc_ = static_cast<uint16_t>((next_desc_ + buffers.size()) % size_);
    publish(head);
    return head;
  }

  /** Next used element (id, len) the device returned, if any. */
  std::optional<std::pair<uint32_t, uint32_t>> pop_used() {
    uint16_t idx = memory_.read_obj<uint16_t>(used_ + 2).value();
    if (idx == used_seen_) return std::nullopt;
    uint64_t elem = used_ + 4 + 8ull * (used_seen_ % size_);
    ++used_seen_;
    return std::make_pair(memory_.read_obj<uint32_t>(elem).value(), memory_.read_obj<uint32_t>(elem + 4).value());
  }

  void set_avail_idx(uint16_t idx) {
    avail_idx_ = idx;
    memory_.write_obj<uint16_t>(avail_ + 2, idx);
  }

 private:
  const GuestMemory& memory_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  uint16_t avail_idx_ = 0;
  uint16_t next_desc_ = 0;
  uint16_t used_seen_ = 0;
};

/** Records what a device signals. */
class RecordingInterrupt : public VirtioInterrupt {
 public:
  void signal_used_queue(uint16_t index) override { used.push_back(index); }
  void signal_config_change() override { ++config_changes; }
  void mark_broken(std::string_view reason) override { broken = std::string(reason); }
  std::vector<uint16_t> used;
  int config_changes = 0;
  std::string broken;
};

}  // namespace moat::vmm::test
