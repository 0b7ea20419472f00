/**
 * KVM: /dev/kvm, VMs, vCPUs. Kicking a running vCPU uses `kvm_run.immediate_exit` plus a real-time
 * signal with a no-op handler installed without SA_RESTART, so KVM_RUN returns EINTR at once.
 */
#include "kvm_hypervisor.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace moat::kvm {
namespace {

using hv::HvError;

std::string os_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// <asm/kvm.h> declares kvm_cpuid2/kvm_msrs with __DECLARE_FLEX_ARRAY, which C++ lays out with an
// extra empty member (sizeof 12, entries at offset 12): wrong ioctl numbers and offsets. moat uses
// its own headers of the kernel's layout (8 bytes, entries right after) and matching ioctl numbers.
struct CpuidHeader {
  uint32_t nent;
  uint32_t padding;
};
struct MsrsHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
static_assert(sizeof(CpuidHeader) == 8 && sizeof(MsrsHeader) == 8);
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);

template <class Header, class Entry>
struct FlexBuffer {
  explicit FlexBuffer(size_t n) : bytes(sizeof(Header) + n * sizeof(Entry)) {}
  Header* header() { return reinterpret_cast<Header*>(bytes.data()); }
  Entry* entries() { return reinterpret_cast<Entry*>(bytes.data() + sizeof(Header)); }
  std::vector<uint8_t> bytes;
};

int kick_signal() { return SIGRTMIN + 6; }

void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    sigaction(kick_signal(), &sa, nullptr);
  });
}

int ioctl_retry(int fd, unsigned long request, void* arg) {
  int r;
  do r = ioctl(fd, request, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

kvm_segment to_kvm(const hv::Segment& s) {
  kvm_segment k{};
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = s.type;
  k.present = s.present;
  k.dpl = s.dpl;
  k.db = s.db;
  k.s = s.s;
  k.l = s.l;
  k.g = s.g;
  k.avl = s.avl;
  k.unusable = s.unusable;
  return k;
}

hv::Segment from_kvm(const kvm_segment& k) {
  hv::Segment s;
  s.base = k.base;
  s.limit = k.limit;
  s.selector = k.selector;
  s.type = k.type;
  s.present = k.present;
  s.dpl = k.dpl;
  s.db = k.db;
  s.s = k.s;
  s.l = k.l;
  s.g = k.g;
  s.avl = k.avl;
  s.unusable = k.unusable;
  return s;
}

class KvmVcpu : public hv::Vcpu {
 public:
  KvmVcpu(int vm_fd, int kvm_fd, uint32_t id) : id_(id) {
    fd_ = ioctl(vm_fd, KVM_CREATE_VCPU, static_cast<unsigned long>(id));
    if (fd_ < 0) throw HvError(os_error("KVM_CREATE_VCPU " + std::to_string(id)));
    int size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < static_cast<int>(sizeof(kvm_run))) {
      close(fd_);
      throw HvError(os_error("KVM_GET_VCPU_MMAP_SIZE"));
    }
    run_size_ = static_cast<size_t>(size);
    void* p = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) {
      close(fd_);
      throw HvError(os_error("mmap of the kvm_run page"));
    }
    run_ = static_cast<kvm_run*>(p);
    install_kick_handler();
  }
  ~KvmVcpu() override {
    munmap(run_, run_size_);
    close(fd_);
  }

  uint32_t id() const override { return id_; }

  hv::Regs get_regs() override {
    kvm_regs k{};
    check(ioctl(fd_, KVM_GET_REGS, &k), "KVM_GET_REGS");
    hv::Regs r;
    r.rax = k.rax; r.rbx = k.rbx; r.rcx = k.rcx; r.rdx = k.rdx;
    r.rsi = k.rsi; r.rdi = k.rdi; r.rsp = k.rsp; r.rbp = k.rbp;
    r.r8 = k.r8; r.r9 = k.r9; r.r10 = k.r10; r.r11 = k.r11;
    r.r12 = k.r12; r.r13 = k.r13; r.r14 = k.r14; r.r15 = k.r15;
    r.rip = k.rip; r.rflags = k.rflags;
    return r;
  }
  void set_regs(const hv::Regs& r) override {
    kvm_regs k{};
    k.rax = r.rax; k.rbx = r.rbx; k.rcx = r.rcx; k.rdx = r.rdx;
    k.rsi = r.rsi; k.rdi = r.rdi; k.rsp = r.rsp; k.rbp = r.rbp;
    k.r8 = r.r8; k.r9 = r.r9; k.r10 = r.r10; k.r11 = r.r11;
    k.r12 = r.r12; k.r13 = r.r13; k.r14 = r.r14; k.r15 = r.r15;
    k.rip = r.rip; k.rflags = r.rflags;
    check(ioctl(fd_, KVM_SET_REGS, &k), "KVM_SET_REGS");
  }
  hv::SpecialRegs get_sregs() override {
    kvm_sregs k{};
    check(ioctl(fd_, KVM_GET_SREGS, &k), "KVM_GET_SREGS");
    hv::SpecialRegs s;
    s.cs = from_kvm(k.cs); s.ds = from_kvm(k.ds); s.es = from_kvm(k.es);
    s.fs = from_kvm(k.fs); s.gs = from_kvm(k.gs); s.ss = from_kvm(k.ss);
    s.tr = from_kvm(k.tr); s.ldt = from_kvm(k.ldt);
    s.gdt = {k.gdt.base, k.gdt.limit};
    s.idt = {k.idt.base, k.idt.limit};
    s.cr0 = k.cr0; s.cr2 = k.cr2; s.cr3 = k.cr3; s.cr4 = k.cr4; s.cr8 = k.cr8;
    s.efer = k.efer; s.apic_base = k.apic_base;
    return s;
  }
  void set_sregs(const hv::SpecialRegs& s) override {
    kvm_sregs k{};
    // Start from the current state so fields we do not model (interrupt bitmap) stay valid.
    check(ioctl(fd_, KVM_GET_SREGS, &k), "KVM_GET_SREGS");
    k.cs = to_kvm(s.cs); k.ds = to_kvm(s.ds); k.es = to_kvm(s.es);
    k.fs = to_kvm(s.fs); k.gs = to_kvm(s.gs); k.ss = to_kvm(s.ss);
    k.tr = to_kvm(s.tr); k.ldt = to_kvm(s.ldt);
    k.gdt.base = s.gdt.base; k.gdt.limit = s.gdt.limit;
    k.idt.base = s.idt.base; k.idt.limit = s.idt.limit;
    k.cr0 = s.cr0; k.cr2 = s.cr2; k.cr3 = s.cr3; k.cr4 = s.cr4; k.cr8 = s.cr8;
    k.efer = s.efer;
    if (s.apic_base) k.apic_base = s.apic_base;
    check(ioctl(fd_, KVM_SET_SREGS, &k), "KVM_SET_SREGS");
  }
  void set_fpu(const hv::FpuState& f) override {
    kvm_fpu k{};
    k.fcw = f.fcw;
    k.fsw = f.fsw;
    k.ftwx = f.ftwx;
    k.mxcsr = f.mxcsr;
    check(ioctl(fd_, KVM_SET_FPU, &k), "KVM_SET_FPU");
  }
  void set_msrs(const std::vector<hv::Msr>& msrs) override {
    FlexBuffer<MsrsHeader, kvm_msr_entry> buf(msrs.size());
    buf.header()->nmsrs = static_cast<uint32_t>(msrs.size());
    for (size_t i = 0; i < msrs.size(); ++i) {
      buf.entries()[i].index = msrs[i].index;
      buf.entries()[i].data = msrs[i].value;
    }
    int n = ioctl(fd_, kSetMsrs, buf.bytes.data());
    if (n < 0) throw HvError(os_error("KVM_SET_MSRS"));
    if (static_cast<size_t>(n) != msrs.size()) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%#x", msrs[n].index);
      throw HvError(std::string("KVM_SET_MSRS: KVM refused MSR ") + hex);
    }
  }
  void set_cpuid(const hv::CpuidTable& table) override {
    FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(table.size());
    buf.header()->nent = static_cast<uint32_t>(table.size());
    for (size_t i = 0; i < table.size(); ++i) {
      auto& e = buf.entries()[i];
      e.function = table[i].function;
      e.index = table[i].index;
      e.flags = table[i].flags;
      e.eax = table[i].eax; e.ebx = table[i].ebx; e.ecx = table[i].ecx; e.edx = table[i].edx;
    }
    check(ioctl(fd_, kSetCpuid2, buf.bytes.data()), "KVM_SET_CPUID2");
  }
  void init_lapic() override {
    kvm_lapic_state lapic{};
    check(ioctl(fd_, KVM_GET_LAPIC, &lapic), "KVM_GET_LAPIC");
    auto set_lvt = [&](size_t offset, uint32_t delivery_mode) {
      uint32_t v;
      std::memcpy(&v, lapic.regs + offset, 4);
      v = (v & ~0x700u) | (delivery_mode << 8);
      std::memcpy(lapic.regs + offset, &v, 4);
    };
    set_lvt(0x350, 0x7);  // LINT0: ExtINT (the 8259 PIC)
    set_lvt(0x360, 0x4);  // LINT1: NMI
    check(ioctl(fd_, KVM_SET_LAPIC, &lapic), "KVM_SET_LAPIC");
  }

  hv::VcpuExit run() override {
    hv::VcpuExit exit;
    thread_.store(pthread_self());
    has_thread_.store(true);
    // The signal may be blocked in threads Node created; the vCPU thread must receive it.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, kick_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

    if (ioctl(fd_, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        exit.kind = hv::VcpuExit::Kind::Interrupted;
        return exit;
      }
      exit.kind = hv::VcpuExit::Kind::InternalError;
      exit.detail = os_error("KVM_RUN");
      return exit;
    }
    using K = hv::VcpuExit::Kind;
    switch (run_->exit_reason) {
      case KVM_EXIT_MMIO:
        exit.kind = run_->mmio.is_write ? K::MmioWrite : K::MmioRead;
        exit.address = run_->mmio.phys_addr;
        exit.data = std::span<uint8_t>(run_->mmio.data, std::min<uint32_t>(run_->mmio.len, 8));
        break;
      case KVM_EXIT_IO: {
        exit.kind = run_->io.direction == KVM_EXIT_IO_OUT ? K::IoOut : K::IoIn;
        exit.port = run_->io.port;
        exit.count = run_->io.count;
        auto* base = reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset;
        exit.data = std::span<uint8_t>(base, run_->io.size);
        break;
      }
      case KVM_EXIT_HLT: exit.kind = K::Halt; break;
      case KVM_EXIT_SHUTDOWN: exit.kind = K::Shutdown; break;
      case KVM_EXIT_INTR: exit.kind = K::Interrupted; break;
      case KVM_EXIT_SYSTEM_EVENT:
        switch (run_->system_event.type) {
          case KVM_SYSTEM_EVENT_RESET: exit.kind = K::SystemReset; break;
          case KVM_SYSTEM_EVENT_SHUTDOWN: exit.kind = K::SystemShutdown; break;
          default:
            exit.kind = K::InternalError;
            exit.detail = "guest crash reported by KVM (system event " +
                          std::to_string(run_->system_event.type) + ")";
        }
        break;
      case KVM_EXIT_FAIL_ENTRY:
        exit.kind = K::InternalError;
        exit.detail = "KVM could not enter the guest (hardware entry failure reason " +
                      std::to_string(run_->fail_entry.hardware_entry_failure_reason) + ")";
        break;
      case KVM_EXIT_INTERNAL_ERROR:
        exit.kind = K::InternalError;
        exit.detail = "KVM internal error, suberror " + std::to_string(run_->internal.suberror) +
                      (run_->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                           ? " (instruction emulation failed)" : "");
        break;
      default:
        exit.kind = K::InternalError;
        exit.detail = "unhandled KVM exit reason " + std::to_string(run_->exit_reason);
    }
    return exit;
  }

  void kick() override {
    __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (has_thread_.load()) pthread_kill(thread_.load(), kick_signal());
  }
  void clear_kick() override { __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_SEQ_CST); }

 private:
  static void check(int r, const char* what) {
    if (r < 0) throw HvError(os_error(what));
  }

  uint32_t id_;
  int fd_ = -1;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  std::atomic<pthread_t> thread_{};
  std::atomic<bool> has_thread_{false};
};

class KvmVm : public hv::Vm {
 public:
  KvmVm(int kvm_fd, const hv::VmOptions& options) : kvm_fd_(kvm_fd) {
    fd_ = ioctl_retry(kvm_fd, KVM_CREATE_VM, nullptr);
    if (fd_ < 0) throw HvError(os_error("KVM_CREATE_VM"));
    // Intel needs a 3-page TSS region and an identity-map page below 4 GiB, outside guest RAM.
    ioctl(fd_, KVM_SET_TSS_ADDR, 0xfffbd000UL);
    uint64_t identity = 0xfffbc000;
    ioctl(fd_, KVM_SET_IDENTITY_MAP_ADDR, &identity);
    if (options.irqchip) {
      if (ioctl(fd_, KVM_CREATE_IRQCHIP, 0) < 0) {
        std::string e = os_error("KVM_CREATE_IRQCHIP");
        close(fd_);
        throw HvError(e);
      }
      kvm_pit_config pit{};
      pit.flags = KVM_PIT_SPEAKER_DUMMY;
      if (ioctl(fd_, KVM_CREATE_PIT2, &pit) < 0) {
        std::string e = os_error("KVM_CREATE_PIT2");
        close(fd_);
        throw HvError(e);
      }
      irqchip_ = true;
      // The deadline timer is part of KVM's local APIC, so only with the in-kernel irqchip.
      tsc_deadline_ = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
    }
  }
  ~KvmVm() override { close(fd_); }

  void map_memory(uint32_t slot, uint64_t gpa, void* host, uint64_t size, bool read_only) override {
    kvm_userspace_memory_region r{};
    r.slot = slot;
    r.flags = read_only ? KVM_MEM_READONLY : 0;
    r.guest_phys_addr = gpa;
    r.memory_size = size;
    r.userspace_addr = reinterpret_cast<uint64_t>(host);
    if (ioctl(fd_, KVM_SET_USER_MEMORY_REGION, &r) < 0)
      throw HvError(os_error("KVM_SET_USER_MEMORY_REGION slot " + std::to_string(slot)));
  }
  void unmap_memory(uint32_t slot) override {
    kvm_userspace_memory_region r{};
    r.slot = slot;
    if (ioctl(fd_, KVM_SET_USER_MEMORY_REGION, &r) < 0)
      throw HvError(os_error("KVM_SET_USER_MEMORY_REGION (unmap) slot " + std::to_string(slot)));
  }
  std::unique_ptr<hv::Vcpu> create_vcpu(uint32_t id) override {
    return std::make_unique<KvmVcpu>(fd_, kvm_fd_, id);
  }
  void set_irq_line(uint32_t line, bool level) override {
    if (!irqchip_) return;
    kvm_irq_level l{};
    l.irq = line;
    l.level = level ? 1 : 0;
    if (ioctl(fd_, KVM_IRQ_LINE, &l) < 0) throw HvError(os_error("KVM_IRQ_LINE " + std::to_string(line)));
  }
  bool has_irqchip() const override { return irqchip_; }
  bool has_tsc_deadline_timer() const override { return tsc_deadline_; }
  hv::CpuidTable supported_cpuid() override {
    for (uint32_t n = 64; n <= 4096; n *= 2) {
      FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(n);
      buf.header()->nent = n;
      if (ioctl(kvm_fd_, kGetSupportedCpuid, buf.bytes.data()) < 0) {
        if (errno == E2BIG) continue;
        throw HvError(os_error("KVM_GET_SUPPORTED_CPUID"));
      }
      hv::CpuidTable t;
      for (uint32_t i = 0; i < buf.header()->nent; ++i) {
        const auto& e = buf.entries()[i];
        t.push_back({e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx});
      }
      return t;
    }
    throw HvError("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
  }

 private:
  int kvm_fd_;
  int fd_ = -1;
  bool irqchip_ = false;
  bool tsc_deadline_ = false;
};

}  // namespace

KvmHypervisor::KvmHypervisor(const std::string& device) : device_(device) {
  fd_ = open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) {
    int e = errno;
    if (e == ENOENT)
      throw HvError(device + " does not exist: KVM is not available (enable virtualization in the "
                    "firmware and load kvm_intel or kvm_amd)", "NO_DEVICE");
    if (e == EACCES || e == EPERM)
      throw HvError(device + ": permission denied — add your user to the kvm group: "
                    "sudo usermod -aG kvm $USER (then log in again)", "PERMISSION");
    throw HvError(device + ": " + std::strerror(e));
  }
  int version = ioctl(fd_, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) {
    close(fd_);
    throw HvError(device + ": KVM API version " + std::to_string(version) + ", moat needs " +
                  std::to_string(KVM_API_VERSION), "API_VERSION");
  }
}

KvmHypervisor::~KvmHypervisor() {
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<hv::Vm> KvmHypervisor::create_vm(const hv::VmOptions& options) {
  return std::make_unique<KvmVm>(fd_, options);
}

}  // namespace moat::kvm
