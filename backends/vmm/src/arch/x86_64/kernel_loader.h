/**
 * Loads a Linux kernel into guest memory and prepares its boot: an uncompressed ELF vmlinux through
 * the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY; hvm_start_info + memmap), or a bzImage through the Linux
 * 64-bit boot protocol (boot_params + e820). Both get the command line, an optional initrd at the
 * top of low RAM, and an MP table so Linux finds every vCPU and the IOAPIC without ACPI.
 * Throws std::runtime_error naming the file and the limit on any bad image.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hv/x86_64_state.h"
#include "memory/guest_memory.h"

namespace moat::arch::x86_64 {

enum class BootProtocol { kPvh, kBzImage };

struct KernelImages {
  std::vector<uint8_t> kernel;
  std::vector<uint8_t> initrd;  ///< empty: none
};

struct KernelBoot {
  BootProtocol protocol = BootProtocol::kPvh;
  /** BSP registers (RIP = entry; RBX = start info for PVH, RSI = boot_params for bzImage). */
  hv::Regs regs;
};

/** `path` is used only in error messages. */
KernelBoot load_kernel(const vmm::GuestMemory& mem, const KernelImages& images, const std::string& path,
                       const std::string& cmdline, uint32_t vcpus);

/** One guest RAM map entry (E820 type 1 = RAM, 2 = reserved). */
struct E820Entry {
  uint64_t addr, size;
  uint32_t type;
};

/** The RAM map moat presents: base memory below the EBDA, RAM from 1 MiB, RAM above 4 GiB. */
std::vector<E820Entry> e820_map(uint64_t mem_size);

/** Writes an MP table (floating pointer + config table) at the EBDA; false if it does not fit. */
bool write_mptable(const vmm::GuestMemory& mem, uint32_t vcpus);

}  // namespace moat::arch::x86_64
