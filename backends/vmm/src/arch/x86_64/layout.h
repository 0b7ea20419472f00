/**
 * The x86_64 guest-physical memory layout moat uses: where RAM, the MMIO window and the boot
 * structures live. One place so the boot code, the machine and the docs agree.
 *
 *   0x0000_0500  GDT   0x1000 TSS + I/O bitmap 0x0000_6000  PVH hvm_start_info (+ modules, memmap)
 *   0x0000_7000  bzImage boot_params          0x0000_9000  page tables (PML4, PDPT, 4 PDs: 4 GiB)
 *   0x0002_0000  kernel command line          0x0009_fc00  MP table (EBDA) .. 0x000a_0000
 *   0x000f_0000  MP configuration table (BIOS area, reserved)
 *   0x0010_0000+ kernel, then initrd at the top of low RAM
 *   0xd000_0000  virtio-mmio window (16 MiB)  0xfec0_0000  IOAPIC, 0xfee0_0000 LAPIC
 *   RAM above 0xd000_0000 continues at 4 GiB.
 */
#pragma once

#include <cstdint>

namespace moat::arch::x86_64 {

inline constexpr uint64_t kGdtAddr = 0x500;
inline constexpr uint64_t kTssAddr = 0x1000;
inline constexpr uint64_t kPvhStartInfoAddr = 0x6000;
inline constexpr uint64_t kPvhModlistAddr = 0x6800;
inline constexpr uint64_t kPvhMemmapAddr = 0x6c00;
inline constexpr uint64_t kZeroPageAddr = 0x7000;
inline constexpr uint64_t kPml4Addr = 0x9000;
inline constexpr uint64_t kPdptAddr = 0xa000;
inline constexpr uint64_t kPdAddr = 0xb000;  // 4 pages: 0xb000..0xf000
inline constexpr uint64_t kCmdlineAddr = 0x20000;
inline constexpr uint64_t kCmdlineMax = 2048;  // Linux x86 COMMAND_LINE_SIZE
inline constexpr uint64_t kEbdaStart = 0x9fc00;
inline constexpr uint64_t kMpConfigTableAddr = 0xf0000;
inline constexpr uint64_t kHighMemoryStart = 0x100000;
inline constexpr uint64_t kMmioWindowStart = 0xd0000000;
inline constexpr uint64_t kMmioWindowSize = 0x1000000;
inline constexpr uint64_t kMmioStride = 0x1000;
inline constexpr uint64_t kIoapicAddr = 0xfec00000;
inline constexpr uint64_t kLapicAddr = 0xfee00000;
inline constexpr uint64_t kFourGiB = 0x100000000ULL;

/** The first interrupt line handed to virtio-mmio devices (serial uses 4). */
inline constexpr uint32_t kFirstDeviceIrq = 5;
inline constexpr uint32_t kSerialIrq = 4;
inline constexpr uint16_t kSerialPort = 0x3f8;
/** moat's exit port: a 32-bit `outl` here ends the machine with that status (0 = power off). */
inline constexpr uint16_t kExitPort = 0x604;
/** i8042 command port: writing 0xfe resets the machine (Linux `reboot=k`). */
inline constexpr uint16_t kI8042CommandPort = 0x64;

/** GDT selectors (see gdt.cc). */
inline constexpr uint16_t kCode32Selector = 0x08;
inline constexpr uint16_t kCode64Selector = 0x10;
inline constexpr uint16_t kDataSelector = 0x18;
inline constexpr uint16_t kUserCode64Selector = 0x20 | 3;
inline constexpr uint16_t kUserDataSelector = 0x28 | 3;
inline constexpr uint16_t kTssSelector = 0x30;

/** Guest RAM split around the MMIO hole: [0, low) and [4 GiB, 4 GiB + high). */
struct RamLayout {
  uint64_t low_size = 0;
  uint64_t high_size = 0;
};

inline RamLayout ram_layout(uint64_t mem_size) {
  if (mem_size <= kMmioWindowStart) return {mem_size, 0};
  return {kMmioWindowStart, mem_size - kMmioWindowStart};
}

}  // namespace moat::arch::x86_64
