/**
 * BusDevice: anything that answers guest MMIO or port-I/O accesses.
 *
 * `offset` is relative to the base the device was inserted at; `data` is the access width (1, 2, 4
 * or 8 bytes, little-endian). Accesses arrive on vCPU threads, possibly concurrently: a device
 * protects its own state. A device must never block for long here (hand I/O to the EventLoop).
 */
#pragma once

#include <cstdint>
#include <span>

namespace moat::vmm {

class BusDevice {
 public:
  virtual ~BusDevice();
  /** Guest reads: fill `data` (unknown registers read as zero). */
  virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
  /** Guest writes: consume `data` (unknown registers are ignored). */
  virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

}  // namespace moat::vmm
