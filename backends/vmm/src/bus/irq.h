/**
 * IrqLine: one guest interrupt line as devices see it.
 *
 * The hypervisor layer implements it (KVM: KVM_IRQ_LINE on the in-kernel irqchip, or an irqfd);
 * devices never see the hypervisor. May be called from any thread (vCPU or event thread).
 */
#pragma once

namespace moat::vmm {

class IrqLine {
 public:
  virtual ~IrqLine();
  /** Edge: raise and lower the line once (virtio-mmio uses this for every new interrupt). */
  virtual void trigger() = 0;
  /** Level: hold the line asserted (true) or de-asserted (false). */
  virtual void set_level(bool asserted) = 0;
};

}  // namespace moat::vmm
