/**
 * The CPUID table a vCPU sees: the hypervisor's supported leaves, filtered to what moat's machine
 * really provides (no PMU, no thermal/power management but ARAT, no MONITOR/MWAIT, no nested
 * VMX/SVM), with the hypervisor bit set, per-vCPU APIC ids and a topology of `vcpus` single-thread
 * cores. The hypervisor's own leaves (KVM: signature 0x40000000, paravirt features such as kvmclock
 * at 0x40000001) pass through unchanged.
 *
 * Linux needs two timer bits to leave the PIT alone: TSC-deadline (leaf 1 ECX[24]; KVM emulates it
 * but does not list it, `tsc_deadline_timer` adds it) and ARAT (leaf 6 EAX[2], kept). Without the
 * first it calibrates the LAPIC timer against the PIT and, where that fails (nested
 * virtualization), ticks from the PIT; without the second it sets the PIT up and runs its IO-APIC
 * timer check anyway. Either costs seconds per boot under nested KVM.
 */
#pragma once

#include <cstdint>

#include "hv/x86_64_state.h"

namespace moat::arch::x86_64 {

hv::CpuidTable filter_cpuid(const hv::CpuidTable& supported, uint32_t vcpu_id, uint32_t vcpu_count,
                            bool tsc_deadline_timer);

}  // namespace moat::arch::x86_64
