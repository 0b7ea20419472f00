/**
 * Why a vCPU stopped running guest code: the one value `Vcpu::run()` returns. The machine's run loop
 * is a single switch over `VcpuExit::Kind`. For MMIO and port reads the machine fills `data` before
 * calling run() again, which completes the guest's access.
 */
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace moat::hv {

struct VcpuExit {
  enum class Kind {
    MmioRead,       // guest read `data.size()` bytes at guest-physical `address`
    MmioWrite,      // guest wrote `data` at `address`
    IoIn,           // guest read `data.size()` bytes from `port` (repeated `count` times for rep ins)
    IoOut,          // guest wrote `data` to `port`
    Halt,           // HLT with no interrupt pending (only without an in-kernel irqchip)
    Shutdown,       // triple fault: the guest cannot continue
    SystemReset,    // the hypervisor reports a guest reset request
    SystemShutdown, // the hypervisor reports a guest power-off request
    Interrupted,    // run() returned because of kick(), before or during guest execution
    InternalError,  // the hypervisor could not emulate something; `detail` says what
  };

  Kind kind = Kind::InternalError;
  uint64_t address = 0;
  uint16_t port = 0;
  /** For IoIn/IoOut: the data of one access of `size` bytes; rep accesses arrive as `count` items. */
  std::span<uint8_t> data;
  uint32_t count = 1;
  std::string detail;
};

const char* exit_kind_name(VcpuExit::Kind kind);

}  // namespace moat::hv
