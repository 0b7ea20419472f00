/**
 * Reads the native machine config (a plain JS object; schema in backends/kvm/README.md) into a
 * machine::MachineConfig. Throws Napi::TypeError naming the field on a wrong shape.
 */
#pragma once

#include <napi.h>

#include "machine/config.h"

namespace moat::kvm {

machine::MachineConfig parse_machine_config(const Napi::Object& object);

}  // namespace moat::kvm
