/**
 * The hypervisor interface: what KVM, HVF and WHP each implement, and nothing more. Create a VM,
 * map guest memory, create vCPUs, get/set their state, run them until an exit, raise interrupt
 * lines, and kick a running vCPU out of guest mode. No device ever sees these types and this layer
 * never knows a device: the machine (src/machine) wires the two together.
 *
 * Threading: a Vcpu is created, configured and run on its own vCPU thread; `kick()` is the one call
 * that another thread may make. `Vm::set_irq_line()` may be called from any thread.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "hv/vcpu_exit.h"
#include "hv/x86_64_state.h"

namespace moat::hv {

/**
 * Thrown by hypervisor calls; `what()` names the operation and the OS error. `code()` classifies
 * set-up failures for probes: "NO_DEVICE", "PERMISSION", "API_VERSION", or "HV_ERROR".
 */
class HvError : public std::runtime_error {
 public:
  explicit HvError(const std::string& message, std::string code = "HV_ERROR")
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

class Vcpu {
 public:
  virtual ~Vcpu() = default;
  virtual uint32_t id() const = 0;

  virtual Regs get_regs() = 0;
  virtual void set_regs(const Regs& regs) = 0;
  virtual SpecialRegs get_sregs() = 0;
  virtual void set_sregs(const SpecialRegs& sregs) = 0;
  virtual void set_fpu(const FpuState& fpu) = 0;
  virtual void set_msrs(const std::vector<Msr>& msrs) = 0;
  virtual void set_cpuid(const CpuidTable& table) = 0;
  /** Sets up the local APIC's LINT0 as ExtINT and LINT1 as NMI (what firmware would do). */
  virtual void init_lapic() = 0;

  /** Runs guest code until the next exit. Must be called on this vCPU's thread. */
  virtual VcpuExit run() = 0;
  /** Makes a current or the next run() return Interrupted soon. Callable from any thread. */
  virtual void kick() = 0;
  /** Clears a pending kick so that the next run() enters the guest again. vCPU thread only. */
  virtual void clear_kick() = 0;
};

struct VmOptions {
  /** Emulate the interrupt controllers (LAPIC/IOAPIC/PIC) and the PIT in the hypervisor. */
  bool irqchip = true;
};

class Vm {
 public:
  virtual ~Vm() = default;
  /** Maps host memory [host, host+size) at guest-physical `gpa`. `slot` identifies the mapping. */
  virtual void map_memory(uint32_t slot, uint64_t gpa, void* host, uint64_t size, bool read_only) = 0;
  virtual void unmap_memory(uint32_t slot) = 0;
  virtual std::unique_ptr<Vcpu> create_vcpu(uint32_t id) = 0;
  /** Drives interrupt line (GSI) `line` to `level` (edge devices pulse true then false). */
  virtual void set_irq_line(uint32_t line, bool level) = 0;
  /** True when the VM was created with an in-kernel irqchip (so set_irq_line works). */
  virtual bool has_irqchip() const = 0;
  /** The CPUID leaves this hypervisor can present to a guest (before the machine filters them). */
  virtual CpuidTable supported_cpuid() = 0;
  /**
   * True when the local APIC's TSC-deadline timer mode is emulated for this VM. KVM reports it as
   * a capability, and older KVM (6.1, for one) not in supported_cpuid(): the machine sets the bit.
   */
  virtual bool has_tsc_deadline_timer() const = 0;
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Vm> create_vm(const VmOptions& options) = 0;
};

}  // namespace moat::hv
