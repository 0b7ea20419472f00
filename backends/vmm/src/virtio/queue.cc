/**
 * SplitQueue, ChainReader and ChainWriter: parsing and validating descriptor chains from guest
 * memory (virtio 1.x §2.7) — the code every virtio device's guest input flows through first.
 */
#include "virtio/queue.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>

namespace moat::vmm {
namespace {
#pragma pack(push, 1)
struct Descriptor {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
#pragma pack(pop)
static_assert(sizeof(Descriptor) == 16);

constexpr uint16_t kAvailFNoInterrupt = 1;

std::string fmt(const char* format, auto... args) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}
}  // namespace

VirtioInterrupt::~VirtioInterrupt() = default;
VirtioDevice::~VirtioDevice() = default;

bool SplitQueue::init(const GuestMemory& memory, const QueueConfig& config, std::string& error) {
  memory_ = nullptr;
  if (config.size == 0 || (config.size & (config.size - 1)) != 0) {
    error = fmt("queue size %u is not a power of two", config.size);
    return false;
  }
  const uint64_t n = config.size;
  struct Area {
    const char* what;
    uint64_t gpa, len, align;
  } areas[] = {
      {"descriptor table", config.desc_table, 16 * n, 16},
      {"available ring", config.avail_ring, 6 + 2 * n, 2},
      {"used ring", config.used_ring, 6 + 8 * n, 4},
  };
  for (const auto& a : areas) {
    if (a.gpa % a.align != 0) {
      error = fmt("%s at 0x%" PRIx64 " is not %" PRIu64 "-byte aligned", a.what, a.gpa, a.align);
      return false;
    }
    if (!memory.slice(a.gpa, a.len)) {
      error = fmt("%s at 0x%" PRIx64 " (+%" PRIu64 " bytes) is outside guest memory", a.what, a.gpa, a.len);
      return false;
    }
  }
  memory_ = &memory;
  config_ = config;
  // A freshly activated queue starts at index 0 on both rings (virtio 1.x §2.7).
  next_avail_ = 0;
  next_used_ = 0;
  return true;
}

std::optional<uint16_t> SplitQueue::avail_idx() const {
  auto idx = memory_->read_obj<uint16_t>(config_.avail_ring + 2);
  // Pairs with the driver's write barrier before publishing idx: ring entries are read after this.
  std::atomic_thread_fence(std::memory_order_acquire);
  return idx;
}

bool SplitQueue::has_available() const {
  if (!memory_) return false;
  auto idx = avail_idx();
  return !idx || *idx != next_avail_;
}

SplitQueue::PopResult SplitQueue::pop() {
  if (!memory_) return QueueError{"queue used before it was set up"};
  auto idx = avail_idx();
  if (!idx) return QueueError{"available ring unreadable"};
  uint16_t pending = static_cast<uint16_t>(*idx - next_avail_);
  if (pending == 0) return std::monostate{};
  if (pending > config_.size) {
    return QueueError{fmt("available index %u is %u entries ahead of the device (queue size %u)", *idx,
                          pending, config_.size)};
  }
  const uint16_t slot = next_avail_ % config_.size;
  auto head = memory_->read_obj<uint16_t>(config_.avail_ring + 4 + 2ull * slot);
  if (!head) return QueueError{"available ring entry unreadable"};
  if (*head >= config_.size) return QueueError{fmt("descriptor head %u >= queue size %u", *head, config_.size)};

  DescriptorChain chain;
  chain.head = *head;
  uint16_t index = *head;
  uint64_t total = 0;
  for (uint32_t count = 0;; ++count) {
    if (count >= config_.size) return QueueError{fmt("descriptor chain from head %u loops or exceeds the queue size %u", *head, config_.size)};
    auto desc = memory_->read_obj<Descriptor>(config_.desc_table + 16ull * index);
    if (!desc) return QueueError{"descriptor table unreadable"};
    if (desc->flags & kDescFIndirect) return QueueError{fmt("descriptor %u is INDIRECT, which was not negotiated", index)};
    const bool writable = desc->flags & kDescFWrite;
    if (!writable && !chain.buffers.empty() && chain.buffers.back().device_writable) {
      return QueueError{fmt("descriptor %u is device-readable after a device-writable one", index)};
    }
    total += desc->len;
    if (total > kMaxChainBytes) return QueueError{fmt("descriptor chain from head %u is longer than %" PRIu64 " bytes", *head, kMaxChainBytes)};
    if (!memory_->slice(desc->addr, desc->len)) {
      return QueueError{fmt("descriptor %u buffer 0x%" PRIx64 " (+%u bytes) is outside guest memory", index, desc->addr, desc->len)};
    }
    if (desc->len > 0) {
      chain.buffers.push_back({desc->addr, desc->len, writable});
      (writable ? chain.writable_bytes : chain.readable_bytes) += desc->len;
    }
    if (!(desc->flags & kDescFNext)) break;
    if (desc->next >= config_.size) return QueueError{fmt("descriptor %u: next %u >= queue size %u", index, desc->next, config_.size)};
    index = desc->next;
  }
  ++next_avail_;
  return chain;
}

void SplitQueue::undo_pop() { --next_avail_; }

bool SplitQueue::add_used(uint16_t head, uint32_t len) {
  if (!memory_) return false;
  const uint64_t elem = config_.used_ring + 4 + 8ull * (next_used_ % config_.size);
  struct {
    uint32_t id, len;
  } used{head, len};
  if (!memory_->write_obj(elem, used)) return false;
  ++next_used_;
  // The element must be visible before the index that publishes it.
  std::atomic_thread_fence(std::memory_order_release);
  if (!memory_->write_obj<uint16_t>(config_.used_ring + 2, next_used_)) return false;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return true;
}

bool SplitQueue::needs_interrupt() const {
  if (!memory_) return false;
  auto flags = memory_->read_obj<uint16_t>(config_.avail_ring);
  return !flags || !(*flags & kAvailFNoInterrupt);
}

void SplitQueue::set_notification(bool enabled) {
  if (!memory_) return;
  constexpr uint16_t kUsedFNoNotify = 1;
  memory_->write_obj<uint16_t>(config_.used_ring, enabled ? 0 : kUsedFNoNotify);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

// ---- ChainReader ----

ChainReader::ChainReader(const GuestMemory& memory, const DescriptorChain& chain)
    : memory_(memory), chain_(chain), remaining_(chain.readable_bytes) {}

bool ChainReader::next_slices(uint64_t len, std::vector<std::span<uint8_t>>& out) {
  if (len > remaining_) return false;
  size_t index = index_;
  uint64_t offset = offset_;
  std::vector<std::span<uint8_t>> slices;
  uint64_t left = len;
  while (left > 0) {
    const auto& b = chain_.buffers[index];
    uint64_t take = std::min<uint64_t>(left, b.len - offset);
    auto s = memory_.slice(b.gpa + offset, take);
    if (!s) return false;  // validated at pop(); defensive
    slices.push_back(*s);
    left -= take;
    offset += take;
    if (offset == b.len) {
      ++index;
      offset = 0;
    }
  }
  index_ = index;
  offset_ = offset;
  remaining_ -= len;
  out.insert(out.end(), slices.begin(), slices.end());
  return true;
}

bool ChainReader::read(std::span<uint8_t> out) {
  std::vector<std::span<uint8_t>> slices;
  if (!next_slices(out.size(), slices)) return false;
  size_t at = 0;
  for (auto s : slices) {
    std::memcpy(out.data() + at, s.data(), s.size());
    at += s.size();
  }
  return true;
}

bool ChainReader::skip(uint64_t len) {
  std::vector<std::span<uint8_t>> slices;
  return next_slices(len, slices);
}

// ---- ChainWriter ----

ChainWriter::ChainWriter(const GuestMemory& memory, const DescriptorChain& chain)
    : memory_(memory), chain_(chain), remaining_(chain.writable_bytes) {
  first_writable_ = 0;
  while (first_writable_ < chain.buffers.size() && !chain.buffers[first_writable_].device_writable) ++first_writable_;
  index_ = first_writable_;
}

bool ChainWriter::peek_slices(uint64_t len, std::vector<std::span<uint8_t>>& out) const {
  if (len > remaining_) return false;
  size_t index = index_;
  uint64_t offset = offset_;
  uint64_t left = len;
  while (left > 0) {
    const auto& b = chain_.buffers[index];
    uint64_t take = std::min<uint64_t>(left, b.len - offset);
    auto s = memory_.slice(b.gpa + offset, take);
    if (!s) return false;
    out.push_back(*s);
    left -= take;
    offset += take;
    if (offset == b.len) {
      ++index;
      offset = 0;
    }
  }
  return true;
}

bool ChainWriter::advance(uint64_t len) {
  if (len > remaining_) return false;
  uint64_t left = len;
  while (left > 0) {
    const auto& b = chain_.buffers[index_];
    uint64_t take = std::min<uint64_t>(left, b.len - offset_);
    left -= take;
    offset_ += take;
    if (offset_ == b.len) {
      ++index_;
      offset_ = 0;
    }
  }
  remaining_ -= len;
  written_ += len;
  return true;
}

bool ChainWriter::write(std::span<const uint8_t> in) {
  std::vector<std::span<uint8_t>> slices;
  if (!peek_slices(in.size(), slices)) return false;
  size_t at = 0;
  for (auto s : slices) {
    std::memcpy(s.data(), in.data() + at, s.size());
    at += s.size();
  }
  return advance(in.size());
}

}  // namespace moat::vmm
