/**
 * Can this hypervisor run a guest kernel? A tiny long-mode CPL0 program counts down a loop and takes
 * an INT3 through an IDT (exception delivery, which every kernel needs at boot); its handler writes
 * the exit port. On hardware virtualization this takes about a millisecond. Where CPL0 is emulated
 * (nested PVM) it is thousands of times slower or fails; the probe then reports why.
 */
#pragma once

#include <string>

#include "hv/hypervisor.h"

namespace moat::arch::x86_64 {

struct Cpl0ProbeResult {
  bool ok = false;
  bool timed_out = false;
  double elapsed_ms = 0;
  std::string detail;
};

/** Runs the probe on the calling thread; a watchdog kicks the vCPU after `timeout_ms`. */
Cpl0ProbeResult run_cpl0_probe(hv::Hypervisor& hypervisor, int timeout_ms);

}  // namespace moat::arch::x86_64
