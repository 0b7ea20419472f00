/**
 * Bus: an address space (MMIO or port I/O — same class, two instances) mapping ranges to
 * BusDevices.
 *
 * Devices are inserted at machine set-up (overlaps and zero/wrapping ranges are refused with an
 * error naming both ranges). Lookups are thread-safe for concurrent vCPUs (shared lock held only to
 * find the device; the device call happens outside the lock). An access that starts in one device
 * and runs past its end is refused (returns false) like an unmapped one.
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>

#include "bus/device.h"

namespace moat::vmm {

class Bus {
 public:
  /** Maps [base, base+len) to `device`. False + `error` on overlap, len == 0 or wrap-around. */
  bool insert(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> device, std::string& error);

  /** Removes the range starting exactly at `base`; false if none. */
  bool remove(uint64_t base);

  /** Dispatches a guest read; false when nothing is mapped at [addr, addr+size). */
  bool read(uint64_t addr, std::span<uint8_t> data) const;

  /** Dispatches a guest write; false when nothing is mapped at [addr, addr+size). */
  bool write(uint64_t addr, std::span<const uint8_t> data) const;

 private:
  struct Entry {
    uint64_t len;
    std::shared_ptr<BusDevice> device;
  };
  /** Finds the device covering [addr, addr+size) and the offset into it. */
  std::shared_ptr<BusDevice> resolve(uint64_t addr, uint64_t size, uint64_t& offset) const;

  mutable std::shared_mutex mutex_;
  std::map<uint64_t, Entry> ranges_;  // keyed by base
};

}  // namespace moat::vmm
