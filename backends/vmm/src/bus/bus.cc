/**
 * Bus implementation: an ordered map of non-overlapping ranges under a shared mutex, plus the
 * out-of-line virtual destructors of the bus-level interfaces.
 */
#include "bus/bus.h"

#include <cinttypes>
#include <cstdio>
#include <mutex>

#include "bus/irq.h"

namespace moat::vmm {

BusDevice::~BusDevice() = default;
IrqLine::~IrqLine() = default;

namespace {
std::string range(uint64_t base, uint64_t len) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[0x%" PRIx64 ", +0x%" PRIx64 ")", base, len);
  return buf;
}
}  // namespace

bool Bus::insert(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> device, std::string& error) {
  if (!device) {
    error = "bus: no device given for " + range(base, len);
    return false;
  }
  if (len == 0 || base + len < base) {
    error = "bus: range " + range(base, len) + " is empty or wraps the address space";
    return false;
  }
  std::unique_lock lock(mutex_);
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first < base + len) {
    error = "bus: range " + range(base, len) + " overlaps " + range(next->first, next->second.len);
    return false;
  }
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.len > base) {
      error = "bus: range " + range(base, len) + " overlaps " + range(prev->first, prev->second.len);
      return false;
    }
  }
  ranges_.emplace(base, Entry{len, std::move(device)});
  return true;
}

bool Bus::remove(uint64_t base) {
  std::unique_lock lock(mutex_);
  return ranges_.erase(base) > 0;
}

std::shared_ptr<BusDevice> Bus::resolve(uint64_t addr, uint64_t size, uint64_t& offset) const {
  std::shared_lock lock(mutex_);
  auto it = ranges_.upper_bound(addr);
  if (it == ranges_.begin()) return nullptr;
  --it;
  offset = addr - it->first;
  if (offset >= it->second.len || size > it->second.len - offset) return nullptr;
  return it->second.device;
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) const {
  uint64_t offset = 0;
  auto device = resolve(addr, data.size(), offset);
  if (!device) return false;
  device->read(offset, data);
  return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) const {
  uint64_t offset = 0;
  auto device = resolve(addr, data.size(), offset);
  if (!device) return false;
  device->write(offset, data);
  return true;
}

}  // namespace moat::vmm
