/**
 * Machine: one VM — guest memory, the MMIO and port-I/O buses with their devices, the hypervisor VM
 * and its vCPUs, one thread per vCPU and one event thread for device I/O — and its lifecycle.
 *
 *   create() → validates the config, maps memory, builds devices, loads the kernel or test payload,
 *              configures every vCPU (throws MachineError naming the bad value on any failure; nothing
 *              is left behind because every resource is owned by the half-built Machine)
 *   start()  → starts the event thread and the vCPU threads
 *   pause()/resume() → park/unpark every vCPU (pause returns once all are parked)
 *   kill()   → ends the machine; `exited` fires once, after every vCPU thread has left guest mode
 *
 * The machine ends by itself when the guest writes the exit port (poweroff, with a status), resets
 * (i8042 0xfe, KVM system event, or a triple fault in kernel mode: reboot), or crashes (hypervisor
 * internal error; a triple fault in test-payload mode). Events are called on machine threads.
 */
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "event/event_loop.h"
#include "hv/hypervisor.h"
#include "machine/config.h"
#include "memory/guest_memory.h"

namespace moat::machine {

/** A configuration or start-up failure; `what()` names the value and the fix. */
class MachineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MachineExit {
  std::string reason;  ///< "poweroff" | "reboot" | "killed" | "crashed"
  uint32_t status = 0; ///< exit-port status (poweroff), 0 otherwise
  std::string detail;
};

struct MachineEvents {
  /** Serial output (vCPU threads), only when config.console_events. */
  std::function<void(std::span<const uint8_t>)> console;
  /** Called exactly once, on the event thread, when a started machine has ended. */
  std::function<void(const MachineExit&)> exited;
};

/** One virtio-mmio device as announced to the guest. */
struct DeviceInfo {
  std::string kind;  ///< "vsock" | "blk" | "rng"
  uint64_t mmio_base = 0;
  uint32_t irq = 0;
};

class Machine {
 public:
  static std::unique_ptr<Machine> create(hv::Hypervisor& hypervisor, const MachineConfig& config,
                                         MachineEvents events);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  void start();
  void kill();
  void pause();
  void resume();

  /** The full kernel command line given to the guest (empty in test-payload mode). */
  const std::string& cmdline() const { return cmdline_; }
  const std::vector<DeviceInfo>& devices() const { return devices_; }
  /** The last bytes of serial output (for crash reports). */
  std::string console_tail() const;
  /** Guest RAM resident on the host (GuestMemory::resident_bytes): what the guest touched. */
  uint64_t guest_resident_bytes() const { return memory_->resident_bytes(); }

 private:
  Machine(const MachineConfig& config, MachineEvents events);
  void build(hv::Hypervisor& hypervisor);
  void build_devices();
  void boot();
  void vcpu_main(size_t index);
  /** Handles one exit; false when the vCPU must stop. */
  bool handle_exit(hv::VcpuExit& exit);
  void finish(std::string reason, uint32_t status, std::string detail);
  void on_console(std::span<const uint8_t> bytes);
  void vcpu_thread_done();

  MachineConfig config_;
  MachineEvents events_;
  std::unique_ptr<vmm::GuestMemory> memory_;
  std::unique_ptr<hv::Vm> vm_;
  std::unique_ptr<vmm::EventLoop> loop_;
  vmm::Bus mmio_bus_;
  vmm::Bus pio_bus_;
  std::vector<std::shared_ptr<vmm::BusDevice>> owned_devices_;
  std::vector<std::unique_ptr<hv::Vcpu>> vcpus_;
  std::vector<DeviceInfo> devices_;
  std::string cmdline_;
  int console_fd_ = -1;

  std::thread event_thread_;
  std::vector<std::thread> vcpu_threads_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> vcpus_running_{0};

  std::mutex state_mutex_;
  std::condition_variable state_cv_;
  bool paused_ = false;
  size_t vcpus_parked_ = 0;
  bool exited_delivered_ = false;
  MachineExit exit_;
  bool finished_ = false;

  mutable std::mutex console_mutex_;
  std::deque<char> console_tail_;
};

}  // namespace moat::machine
