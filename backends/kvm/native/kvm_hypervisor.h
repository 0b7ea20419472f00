/**
 * The KVM implementation of the hypervisor interface (src/hv/hypervisor.h): /dev/kvm, a VM fd with
 * an in-kernel irqchip and PIT, and vCPU fds with their shared kvm_run page. The only code in moat
 * that includes <linux/kvm.h>.
 */
#pragma once

#include <string>

#include "hv/hypervisor.h"

namespace moat::kvm {

/** Opens /dev/kvm (or `device`) and checks the KVM API version; throws hv::HvError with the fix. */
class KvmHypervisor : public hv::Hypervisor {
 public:
  explicit KvmHypervisor(const std::string& device = "/dev/kvm");
  ~KvmHypervisor() override;
  KvmHypervisor(const KvmHypervisor&) = delete;
  KvmHypervisor& operator=(const KvmHypervisor&) = delete;

  std::string name() const override { return "kvm"; }
  std::unique_ptr<hv::Vm> create_vm(const hv::VmOptions& options) override;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string device_;
};

}  // namespace moat::kvm
