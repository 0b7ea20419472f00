/**
 * HvIrqLine: a device-facing IrqLine (bus/irq.h) driven through the hypervisor's interrupt line
 * call. The machine creates one per device; the device never learns which hypervisor is below.
 */
#pragma once

#include <cstdint>

#include "bus/irq.h"
#include "hv/hypervisor.h"

namespace moat::machine {

class HvIrqLine : public vmm::IrqLine {
 public:
  HvIrqLine(hv::Vm& vm, uint32_t line) : vm_(vm), line_(line) {}
  // Devices expect no exceptions: a failing line (VM being torn down) is dropped.
  void trigger() override {
    try {
      vm_.set_irq_line(line_, true);
      vm_.set_irq_line(line_, false);
    } catch (const hv::HvError&) {
    }
  }
  void set_level(bool asserted) override {
    try {
      vm_.set_irq_line(line_, asserted);
    } catch (const hv::HvError&) {
    }
  }

 private:
  hv::Vm& vm_;
  uint32_t line_;
};

}  // namespace moat::machine
