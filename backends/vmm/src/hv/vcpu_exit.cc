/** Names of vCPU exit kinds, for logs and error messages. */
#include "hv/vcpu_exit.h"

namespace moat::hv {

const char* exit_kind_name(VcpuExit::Kind kind) {
  switch (kind) {
    case VcpuExit::Kind::MmioRead: return "mmio-read";
    case VcpuExit::Kind::MmioWrite: return "mmio-write";
    case VcpuExit::Kind::IoIn: return "io-in";
    case VcpuExit::Kind::IoOut: return "io-out";
    case VcpuExit::Kind::Halt: return "halt";
    case VcpuExit::Kind::Shutdown: return "shutdown";
    case VcpuExit::Kind::SystemReset: return "system-reset";
    case VcpuExit::Kind::SystemShutdown: return "system-shutdown";
    case VcpuExit::Kind::Interrupted: return "interrupted";
    case VcpuExit::Kind::InternalError: return "internal-error";
  }
  return "unknown";
}

}  // namespace moat::hv
