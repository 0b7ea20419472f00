/**
 * VirtioRng implementation: fills each request's writable buffers from getrandom(2).
 */
#include "virtio/rng/virtio_rng.h"

#include <sys/random.h>

#include <cerrno>

namespace moat::vmm {

void VirtioRng::read_config(uint64_t, std::span<uint8_t> data) {
  for (auto& b : data) b = 0;  // no configuration space
}

bool VirtioRng::activate(ActivateContext context, std::string& error) {
  std::lock_guard lock(mutex_);
  if (context.queues.empty() || !context.queues[0].ready) {
    error = "request queue 0 is not ready";
    return false;
  }
  if (!queue_.init(*context.memory, context.queues[0], error)) return false;
  context_ = std::move(context);
  active_ = true;
  return true;
}

void VirtioRng::reset() {
  std::lock_guard lock(mutex_);
  active_ = false;
  queue_ = SplitQueue{};
  context_ = ActivateContext{};
}

/** Fills as much of the chain's writable part as getrandom gives (at most kMaxBytesPerRequest). */
uint32_t VirtioRng::fill(const DescriptorChain& chain) {
  ChainWriter writer(*context_.memory, chain);
  std::vector<std::span<uint8_t>> slices;
  uint64_t want = std::min<uint64_t>(writer.remaining(), kMaxBytesPerRequest);
  if (writer.peek_slices(want, slices)) {
    uint64_t filled = 0;
    for (auto s : slices) {
      size_t done = 0;
      while (done < s.size()) {
        ssize_t n = getrandom(s.data() + done, s.size() - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      filled += done;
      if (done < s.size()) break;
    }
    writer.advance(filled);
  }
  return static_cast<uint32_t>(writer.written());
}

void VirtioRng::queue_notify(uint16_t index) {
  std::lock_guard lock(mutex_);
  if (!active_ || index != 0) return;
  bool completed = false;
  auto error = queue_.drain([this](const DescriptorChain& chain) -> SplitQueue::Served { return fill(chain); }, completed);
  if (error) {
    active_ = false;
    context_.interrupt->mark_broken("virtio-rng: " + *error);
    return;
  }
  if (completed && queue_.needs_interrupt()) context_.interrupt->signal_used_queue(0);
}

}  // namespace moat::vmm
