/**
 * SplitQueue: the device side of a virtio 1.x split virtqueue, with every guest access going
 * through GuestMemory.
 *
 * `pop()` reads the next available descriptor chain and validates it completely before a device
 * sees it: head and next indices < queue size, chain length <= queue size (catches loops), every
 * buffer inside guest RAM (GuestMemory::slice), total length bounded, device-readable buffers before
 * device-writable ones, no INDIRECT descriptors (the feature is not offered), avail index not more
 * than `size` ahead. A violation yields QueueError (the device then marks itself NEEDS_RESET);
 * nothing is ever dereferenced unchecked. `add_used()` writes the used element and publishes the
 * index with a release fence. EVENT_IDX is not offered; VRING_AVAIL_F_NO_INTERRUPT is honoured and
 * VRING_USED_F_NO_NOTIFY suppresses kicks while a device drains the queue.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "memory/guest_memory.h"
#include "virtio/virtio_device.h"

namespace moat::vmm {

/** One validated buffer of a chain. */
struct DescriptorBuffer {
  uint64_t gpa = 0;
  uint32_t len = 0;
  bool device_writable = false;
};

/** A validated descriptor chain: readable buffers first, then writable ones. */
struct DescriptorChain {
  uint16_t head = 0;
  std::vector<DescriptorBuffer> buffers;
  uint64_t readable_bytes = 0;
  uint64_t writable_bytes = 0;
};

/** Why a queue is unusable; the device marks itself broken with `message`. */
struct QueueError {
  std::string message;
};

/** Cursor that copies out of the device-readable part of a chain. */
class ChainReader {
 public:
  ChainReader(const GuestMemory& memory, const DescriptorChain& chain);
  /** Copies exactly out.size() bytes or returns false (nothing consumed on failure). */
  bool read(std::span<uint8_t> out);
  /** Host views of the next `len` readable bytes (for writev); false if fewer remain. */
  bool next_slices(uint64_t len, std::vector<std::span<uint8_t>>& out);
  /** Skips `len` bytes; false if fewer remain. */
  bool skip(uint64_t len);
  uint64_t remaining() const { return remaining_; }

 private:
  const GuestMemory& memory_;
  const DescriptorChain& chain_;
  size_t index_ = 0;      // current buffer
  uint64_t offset_ = 0;   // within current buffer
  uint64_t remaining_;
};

/** Cursor that copies into the device-writable part of a chain; `written()` is the used length. */
class ChainWriter {
 public:
  ChainWriter(const GuestMemory& memory, const DescriptorChain& chain);
  /** Copies all of `in` or returns false (nothing written on failure). */
  bool write(std::span<const uint8_t> in);
  /** Host views of the next `len` writable bytes without advancing; false if fewer remain. */
  bool peek_slices(uint64_t len, std::vector<std::span<uint8_t>>& out) const;
  /** Advances past `len` bytes filled through peek_slices(). */
  bool advance(uint64_t len);
  uint64_t remaining() const { return remaining_; }
  uint64_t written() const { return written_; }

 private:
  const GuestMemory& memory_;
  const DescriptorChain& chain_;
  size_t first_writable_;
  size_t index_;
  uint64_t offset_ = 0;
  uint64_t remaining_;
  uint64_t written_ = 0;
};

class SplitQueue {
 public:
  static constexpr uint16_t kDescFNext = 1;
  static constexpr uint16_t kDescFWrite = 2;
  static constexpr uint16_t kDescFIndirect = 4;
  /** Upper bound on one chain's total length (guards 32-bit sums and absurd requests). */
  static constexpr uint64_t kMaxChainBytes = 1ull << 30;

  SplitQueue() = default;
  /** Checks the rings' placement (alignment, inside guest RAM); false + error if invalid. */
  bool init(const GuestMemory& memory, const QueueConfig& config, std::string& error);

  using PopResult = std::variant<std::monostate /*empty*/, DescriptorChain, QueueError>;
  /** Next available chain, empty (monostate), or a QueueError. */
  PopResult pop();
  /** Puts the last popped chain back (device could not use it yet). */
  void undo_pop();
  /** True if the driver has published chains not yet popped (QueueError counts as true). */
  bool has_available() const;

  /** Returns chain `head` to the driver with `len` bytes written. False if used ring unwritable. */
  bool add_used(uint16_t head, uint32_t len);
  /** Whether the driver wants an interrupt now (VRING_AVAIL_F_NO_INTERRUPT not set). */
  bool needs_interrupt() const;
  /**
   * Sets or clears VRING_USED_F_NO_NOTIFY: while a device drains a queue it asks the driver not to
   * kick (each kick is a VM exit). After re-enabling, the caller must check has_available() again
   * (a full fence orders the flag write before that read), or a chain published meanwhile waits.
   */
  void set_notification(bool enabled);

  /** What a device's request handler gives back: the bytes it wrote into the chain, or why not. */
  using Served = std::variant<uint32_t, std::string>;
  /**
   * Serves every chain the driver has published, in order, with kicks suppressed while it drains
   * (re-checked after re-enabling, so a chain published meanwhile is not left waiting). `serve`
   * handles one chain; its written length goes to the used ring. Sets `completed` when any chain
   * was returned. Stops at the first broken thing — a malformed ring, a request `serve` refused,
   * an unwritable used ring — and returns its description (the device then reports itself broken).
   */
  template <class Serve>
  std::optional<std::string> drain(Serve&& serve, bool& completed) {
    set_notification(false);
    for (;;) {
      auto next = pop();
      if (std::holds_alternative<std::monostate>(next)) {
        set_notification(true);
        if (!has_available()) return std::nullopt;
        set_notification(false);
        continue;
      }
      if (auto* error = std::get_if<QueueError>(&next)) return error->message;
      const auto& chain = std::get<DescriptorChain>(next);
      Served served = serve(chain);
      if (auto* refusal = std::get_if<std::string>(&served)) return *refusal;
      if (!add_used(chain.head, std::get<uint32_t>(served))) return std::string("used ring unwritable");
      completed = true;
    }
  }

  uint16_t size() const { return config_.size; }
  bool ready() const { return memory_ != nullptr; }

 private:
  std::optional<uint16_t> avail_idx() const;

  const GuestMemory* memory_ = nullptr;
  QueueConfig config_{};
  uint16_t next_avail_ = 0;
  uint16_t next_used_ = 0;
};

}  // namespace moat::vmm
