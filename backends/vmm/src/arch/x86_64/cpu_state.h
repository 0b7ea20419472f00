/**
 * Initial x86_64 CPU state for each way moat starts a guest: GDT and page tables in guest memory,
 * and the register values (flat 32-bit protected mode for PVH, 64-bit long mode at CPL0 for a
 * bzImage, long mode at CPL3 for T1 test payloads), plus boot MSRs and FPU defaults.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hv/x86_64_state.h"
#include "memory/guest_memory.h"

namespace moat::arch::x86_64 {

/** Writes the GDT and a TSS at kGdtAddr / kTssAddr. False if guest memory cannot hold them. */
bool write_gdt(const vmm::GuestMemory& mem);

/**
 * Writes identity page tables covering the first 4 GiB with 2 MiB pages at kPml4Addr.. .
 * `user` sets U/S on every level (T1 payloads run at CPL3).
 */
bool write_identity_page_tables(const vmm::GuestMemory& mem, bool user);

/** Flat 32-bit protected mode, paging off (the PVH entry state). */
hv::SpecialRegs protected_mode_sregs(const hv::SpecialRegs& current);
/** 64-bit long mode at CPL0 with the identity page tables (bzImage 64-bit entry). */
hv::SpecialRegs long_mode_kernel_sregs(const hv::SpecialRegs& current);
/** 64-bit long mode at CPL3 with user-accessible identity tables (T1 payloads). */
hv::SpecialRegs long_mode_user_sregs(const hv::SpecialRegs& current);

/** MSR values a kernel expects after firmware (SYSCALL MSRs cleared, fast strings, WB MTRR default). */
std::vector<hv::Msr> boot_msrs();

}  // namespace moat::arch::x86_64
