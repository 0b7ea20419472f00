/**
 * The CPUID table a vCPU sees: the hypervisor's supported leaves, filtered to what moat's machine
 * really provides (no PMU, no thermal/power leaves, no MONITOR/MWAIT, no nested VMX/SVM), with the
 * hypervisor bit set, per-vCPU APIC ids and a topology of `vcpus` single-thread cores.
 */
#pragma once

#include <cstdint>

#include "hv/x86_64_state.h"

namespace moat::arch::x86_64 {

hv::CpuidTable filter_cpuid(const hv::CpuidTable& supported, uint32_t vcpu_id, uint32_t vcpu_count);

}  // namespace moat::arch::x86_64
