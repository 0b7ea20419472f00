/**
 * T1 test payload boot (docs/ARCHITECTURE.md, "Test tiers"): a flat binary run at CPL3 in long mode.
 *
 * ABI (part A's guest programs in backends/vmm/test/guest rely on it exactly):
 *  - binary loaded at guest-physical 0x400000, entry at its first byte;
 *  - long mode, CPL3, all guest RAM and the MMIO window identity-mapped user+RW (2 MiB pages);
 *    RFLAGS.IOPL=3, IF=0; RSP = 0x3ff000;
 *  - RDI = 0x3ff000 → struct t1_boot_info (below); virtio-mmio device i at mmio_base + i*mmio_stride;
 *  - free RAM from 0x1000000 up to mem_size; output to the 8250 at port 0x3f8;
 *  - exit: `outl` of a 32-bit status to port 0x604 (0 = pass); a triple fault ends the machine as
 *    a failure.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hv/x86_64_state.h"
#include "memory/guest_memory.h"

namespace moat::arch::x86_64 {

inline constexpr uint64_t kPayloadLoadAddr = 0x400000;
inline constexpr uint64_t kPayloadBootInfoAddr = 0x3ff000;
inline constexpr uint64_t kPayloadFreeRamStart = 0x1000000;
inline constexpr uint64_t kT1Magic = 0x4d4f41545431ULL;  // "MOATT1"
inline constexpr size_t kT1MaxDevices = 16;
inline constexpr size_t kT1ArgsSize = 256;

#pragma pack(push, 1)
struct T1BootInfo {
  uint64_t magic;
  uint64_t mem_size;
  uint64_t mmio_base;
  uint64_t mmio_stride;
  uint32_t device_count;
  uint32_t device_ids[kT1MaxDevices];
  char args[kT1ArgsSize];
};
#pragma pack(pop)

struct PayloadBoot {
  hv::Regs regs;
};

/**
 * Loads `binary` and writes the boot info, GDT and user page tables. Throws std::runtime_error
 * naming the limit when the binary does not fit below the free-RAM start or args are too long.
 */
PayloadBoot load_test_payload(const vmm::GuestMemory& mem, const std::vector<uint8_t>& binary,
                              const std::string& args, const std::vector<uint32_t>& device_ids);

}  // namespace moat::arch::x86_64
