/**
 * The vCPU run loop: one thread per vCPU, one switch over exits (kvmtool/Firecracker style).
 *
 * vCPU states: running (inside run()), parked (paused, waiting on the state condition), stopped
 * (left the loop). Transitions happen only between run() calls, after a kick made run() return
 * Interrupted: stopping_ → stopped; paused_ → parked until resume or stop.
 */
#include <algorithm>

#include "machine/machine.h"

namespace moat::machine {

void Machine::vcpu_main(size_t index) {
  hv::Vcpu& vcpu = *vcpus_[index];
  while (!stopping_) {
    hv::VcpuExit exit = vcpu.run();
    if (exit.kind == hv::VcpuExit::Kind::Interrupted) {
      std::unique_lock lock(state_mutex_);
      if (paused_ && !stopping_) {
        ++vcpus_parked_;
        state_cv_.notify_all();
        state_cv_.wait(lock, [&] { return !paused_ || stopping_.load(); });
        --vcpus_parked_;
      }
      if (!stopping_) vcpu.clear_kick();  // under the lock: see Machine::finish()
      continue;
    }
    if (!handle_exit(exit)) break;
  }
  vcpu_thread_done();
}

bool Machine::handle_exit(hv::VcpuExit& exit) {
  using K = hv::VcpuExit::Kind;
  const size_t size = exit.data.size();
  switch (exit.kind) {
    case K::MmioRead:
      if (!mmio_bus_.read(exit.address, exit.data)) std::fill(exit.data.begin(), exit.data.end(), 0xff);
      return true;
    case K::MmioWrite:
      mmio_bus_.write(exit.address, exit.data);
      return true;
    case K::IoIn:
      for (uint32_t i = 0; i < exit.count; ++i) {
        std::span<uint8_t> item(exit.data.data() + i * size, size);
        if (!pio_bus_.read(exit.port, item)) std::fill(item.begin(), item.end(), 0xff);
      }
      return true;
    case K::IoOut:
      for (uint32_t i = 0; i < exit.count; ++i)
        pio_bus_.write(exit.port, std::span<const uint8_t>(exit.data.data() + i * size, size));
      return !stopping_;
    case K::Halt:
      finish(config_.test_payload ? "crashed" : "poweroff", 0,
             "guest halted with interrupts disabled" + (config_.test_payload ? "" : std::string()));
      return false;
    case K::Shutdown:
      if (config_.test_payload)
        finish("crashed", 0, "guest triple fault (a fault at CPL3 with no IDT)\n" + console_tail());
      else
        finish("reboot", 0, "guest triple fault (reboot)");
      return false;
    case K::SystemReset:
      finish("reboot", 0, "guest requested a reset");
      return false;
    case K::SystemShutdown:
      finish("poweroff", 0, "guest requested power-off");
      return false;
    case K::InternalError:
      finish("crashed", 0, exit.detail + (console_tail().empty() ? "" : "\nconsole tail:\n" + console_tail()));
      return false;
    case K::Interrupted:
      return true;
  }
  return true;
}

}  // namespace moat::machine
