/** CPUID filtering (see cpuid.h). Bit positions follow the Intel SDM / AMD APM. */
#include "arch/x86_64/cpuid.h"

namespace moat::arch::x86_64 {
namespace {

uint32_t log2_ceil(uint32_t n) {
  uint32_t s = 0;
  while ((1u << s) < n) ++s;
  return s;
}

}  // namespace

hv::CpuidTable filter_cpuid(const hv::CpuidTable& supported, uint32_t vcpu_id, uint32_t vcpu_count,
                            bool tsc_deadline_timer) {
  hv::CpuidTable out;
  out.reserve(supported.size());
  const uint32_t core_shift = log2_ceil(vcpu_count);
  for (hv::CpuidEntry e : supported) {
    switch (e.function) {
      case 0x1:
        e.ebx = (e.ebx & 0x0000ffff) | (vcpu_id << 24) | ((vcpu_count & 0xff) << 16) | (8u << 8);
        e.ecx |= 1u << 31;                    // running under a hypervisor
        if (tsc_deadline_timer) e.ecx |= 1u << 24;  // LAPIC TSC-deadline mode
        e.ecx &= ~((1u << 3) | (1u << 5) | (1u << 6) | (1u << 2) | (1u << 4) | (1u << 15));
        // MONITOR, VMX, SMX, DTES64, DS-CPL, PDCM: not provided
        if (vcpu_count > 1) e.edx |= 1u << 28;  // HTT: more than one logical processor
        e.edx &= ~((1u << 21) | (1u << 22) | (1u << 29));  // DS, ACPI thermal, TM
        break;
      case 0x4:
        if (e.eax & 0x1f) e.eax = (e.eax & 0x03ffffff) | ((vcpu_count - 1) << 26);
        break;
      case 0x6:  // thermal and power management: only ARAT (the emulated LAPIC timer never stops)
        e.eax &= 1u << 2;
        e.ebx = e.ecx = e.edx = 0;
        break;
      case 0x5:  // MONITOR/MWAIT
      case 0xa:  // architectural PMU
        e.eax = e.ebx = e.ecx = e.edx = 0;
        break;
      case 0xb:
        e.edx = vcpu_id;
        if (e.index == 0) {
          e.eax = 0;
          e.ebx = 1;
          e.ecx = (1u << 8) | 0;  // SMT level, one thread per core
        } else if (e.index == 1) {
          e.eax = core_shift;
          e.ebx = vcpu_count;
          e.ecx = (2u << 8) | 1;  // core level
        } else {
          e.eax = e.ebx = 0;
          e.ecx = e.index;  // invalid level
        }
        break;
      case 0x80000001:
        e.ecx &= ~(1u << 2);  // SVM: no nested virtualization
        break;
      default:
        break;
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace moat::arch::x86_64
