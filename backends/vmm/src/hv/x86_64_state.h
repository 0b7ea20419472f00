/**
 * x86_64 vCPU state as the hypervisor interface exchanges it: general registers, segment and
 * control registers, FPU/SSE state, MSRs and CPUID entries. Plain structs with no hypervisor types,
 * so boot code (arch/x86_64) fills them and each hypervisor layer translates them to its own API.
 */
#pragma once

#include <cstdint>
#include <vector>

namespace moat::hv {

struct Regs {
  uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rsp = 0, rbp = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  uint64_t rip = 0, rflags = 0x2;
};

/** A segment register with its hidden (cached descriptor) part. */
struct Segment {
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t selector = 0;
  uint8_t type = 0;  // descriptor type field (4 bits)
  uint8_t present = 0, dpl = 0, db = 0, s = 0, l = 0, g = 0, avl = 0;
  uint8_t unusable = 0;
};

struct DescriptorTable {
  uint64_t base = 0;
  uint16_t limit = 0;
};

struct SpecialRegs {
  Segment cs, ds, es, fs, gs, ss, tr, ldt;
  DescriptorTable gdt, idt;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
  uint64_t efer = 0;
  uint64_t apic_base = 0;
};

struct FpuState {
  uint16_t fcw = 0x37f;  // all x87 exceptions masked, 64-bit precision (the reset value)
  uint16_t fsw = 0;
  uint8_t ftwx = 0;
  uint32_t mxcsr = 0x1f80;  // all SSE exceptions masked (the reset value)
};

struct Msr {
  uint32_t index = 0;
  uint64_t value = 0;
};

struct CpuidEntry {
  uint32_t function = 0, index = 0, flags = 0;
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

using CpuidTable = std::vector<CpuidEntry>;

}  // namespace moat::hv
