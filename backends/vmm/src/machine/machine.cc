/** Machine construction: validation, memory, devices, boot loading and vCPU configuration. */
#include "machine/machine.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "arch/x86_64/cpu_state.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/kernel_loader.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/test_payload.h"
#include "machine/hv_irq_line.h"
#include "machine/system_devices.h"
#include "serial/serial_8250.h"
#include "virtio/block/virtio_block.h"
#include "virtio/mmio_transport.h"
#include "virtio/rng/virtio_rng.h"
#include "virtio/vsock/virtio_vsock.h"

namespace moat::machine {
namespace x86 = arch::x86_64;

namespace {

constexpr uint32_t kMaxVcpus = 64;
constexpr uint64_t kMinMemory = 16ull << 20;
constexpr size_t kConsoleTailBytes = 4096;

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

uint64_t host_memory_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

/**
 * Reads a whole boot file (kernel, initrd, payload) with reads as large as the file: the kernel is
 * ~20 MB, and 8 KiB stream reads cost one round trip each where the file is on a network or 9p
 * share (2,500 of them: a second of every boot inside the nested-KVM L1). Nothing larger than guest
 * memory can be loaded, so such a file is refused before it is read.
 */
std::vector<uint8_t> read_file(const std::string& path, const char* what, uint64_t limit) {
  const auto fail = [&](const std::string& why) {
    return MachineError(std::string(what) + " " + path + ": " + why);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw fail(std::string("cannot be read (") + std::strerror(errno) + ") — check that the file exists and is readable");
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw fail(std::string("cannot be examined (") + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw fail("is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > limit)
    throw fail("is " + mib(static_cast<uint64_t>(st.st_size)) + ", larger than the guest memory (" + mib(limit) + ")");
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::string("read failed (") + std::strerror(errno) + ")");
    if (n == 0) throw fail("shrank while it was read (" + std::to_string(done) + " of " + std::to_string(data.size()) + " bytes)");
    done += static_cast<size_t>(n);
  }
  return data;
}

}  // namespace

Machine::Machine(const MachineConfig& config, MachineEvents events)
    : config_(config), events_(std::move(events)) {}

std::unique_ptr<Machine> Machine::create(hv::Hypervisor& hypervisor, const MachineConfig& config,
                                         MachineEvents events) {
  if (config.vcpus < 1 || config.vcpus > kMaxVcpus)
    throw MachineError("vcpus " + std::to_string(config.vcpus) + " is out of range: 1.." +
                       std::to_string(kMaxVcpus));
  if (config.memory_bytes < kMinMemory || config.memory_bytes % 4096 != 0)
    throw MachineError("memory " + std::to_string(config.memory_bytes) +
                       " bytes is invalid: at least 16 MiB, a multiple of 4 KiB");
  const uint64_t host = host_memory_bytes();
  if (host != 0 && config.memory_bytes > host)
    throw MachineError("memory " + mib(config.memory_bytes) + " is larger than this host's " + mib(host) +
                       " of RAM — ask for less");
  if (config.kernel.has_value() == config.test_payload.has_value())
    throw MachineError("give exactly one of kernel or testPayload");
  if (config.test_payload && config.memory_bytes > x86::kMmioWindowStart)
    throw MachineError("test-payload mode supports at most " + mib(x86::kMmioWindowStart) + " of memory");

  std::unique_ptr<Machine> m(new Machine(config, std::move(events)));
  m->build(hypervisor);
  return m;
}

void Machine::build(hv::Hypervisor& hypervisor) {
  if (!config_.console_path.empty()) {
    console_fd_ = ::open(config_.console_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (console_fd_ < 0)
      throw MachineError("console log " + config_.console_path + ": cannot be opened for writing (" +
                         std::strerror(errno) + ")");
  }

  // Memory: low RAM below the MMIO window, the rest from 4 GiB.
  const auto layout = x86::ram_layout(config_.memory_bytes);
  std::vector<vmm::RegionSpec> regions{{0, layout.low_size}};
  if (layout.high_size) regions.push_back({x86::kFourGiB, layout.high_size});
  std::string error;
  memory_ = vmm::GuestMemory::create(regions, error);
  if (!memory_) throw MachineError("guest memory of " + mib(config_.memory_bytes) + ": " + error);

  try {
    vm_ = hypervisor.create_vm({.irqchip = true});
  } catch (const hv::HvError& e) {
    throw MachineError(std::string("creating the VM failed: ") + e.what());
  }
  uint32_t slot = 0;
  for (const auto& r : memory_->regions()) vm_->map_memory(slot++, r.gpa, r.host, r.size, false);

  loop_ = vmm::EventLoop::create(error);
  if (!loop_) throw MachineError("device event loop: " + error);

  build_devices();
  boot();
}

void Machine::build_devices() {
  std::string error;
  auto insert = [&](vmm::Bus& bus, uint64_t base, uint64_t len, std::shared_ptr<vmm::BusDevice> dev) {
    if (!bus.insert(base, len, dev, error)) throw MachineError("device layout: " + error);
    owned_devices_.push_back(std::move(dev));
  };

  auto serial_irq = std::make_shared<HvIrqLine>(*vm_, x86::kSerialIrq);
  insert(pio_bus_, vmm::Serial8250::kCom1Base, vmm::Serial8250::kPortCount,
         std::make_shared<vmm::Serial8250>(serial_irq, [this](std::span<const uint8_t> b) { on_console(b); }));
  insert(pio_bus_, x86::kExitPort, 4, std::make_shared<ExitPort>([this](uint32_t status) {
           finish("poweroff", status, status == 0 ? "" : "guest exited with status " + std::to_string(status));
         }));
  insert(pio_bus_, x86::kI8042CommandPort, 1,
         std::make_shared<I8042>([this] { finish("reboot", 0, "guest reset through the i8042 controller"); }));

  std::vector<std::pair<std::string, std::shared_ptr<vmm::VirtioDevice>>> virtio;
  if (config_.vsock) {
    auto vsock = vmm::VirtioVsock::create({.guest_cid = config_.vsock->guest_cid,
                                           .uds_path = config_.vsock->uds_path},
                                          *loop_, error);
    if (!vsock) throw MachineError("vsock: " + error);
    virtio.emplace_back("vsock", vsock);
  }
  for (const auto& disk : config_.disks) {
    auto blk = vmm::VirtioBlock::open({.path = disk.path, .read_only = disk.read_only, .serial = ""}, error);
    if (!blk) throw MachineError("disk: " + error);
    virtio.emplace_back("blk", blk);
  }
  if (config_.rng) virtio.emplace_back("rng", std::make_shared<vmm::VirtioRng>());

  const uint64_t max_devices = x86::kMmioWindowSize / x86::kMmioStride;
  if (virtio.size() > max_devices || x86::kFirstDeviceIrq + virtio.size() > 24)
    throw MachineError(std::to_string(virtio.size()) + " virtio devices is too many: the limit is " +
                       std::to_string(24 - x86::kFirstDeviceIrq));
  for (size_t i = 0; i < virtio.size(); ++i) {
    const uint64_t base = x86::kMmioWindowStart + i * x86::kMmioStride;
    const uint32_t irq = x86::kFirstDeviceIrq + static_cast<uint32_t>(i);
    auto transport = std::make_shared<vmm::VirtioMmioTransport>(
        virtio[i].second, *memory_, std::make_shared<HvIrqLine>(*vm_, irq), *loop_);
    insert(mmio_bus_, base, vmm::VirtioMmioTransport::kWindowSize, transport);
    devices_.push_back({virtio[i].first, base, irq});
  }
}

void Machine::boot() {
  hv::Regs bsp_regs;
  enum class Mode { kPvh, kBzImage, kPayload } mode;
  try {
    if (config_.test_payload) {
      std::vector<uint32_t> ids;
      for (const auto& d : devices_)
        ids.push_back(d.kind == "vsock" ? vmm::kVirtioVsock : d.kind == "blk" ? vmm::kVirtioBlock : vmm::kVirtioRng);
      auto binary = read_file(config_.test_payload->path, "test payload", config_.memory_bytes);
      bsp_regs = x86::load_test_payload(*memory_, binary, config_.test_payload->args, ids).regs;
      mode = Mode::kPayload;
    } else {
      cmdline_ = config_.kernel->cmdline;
      for (const auto& d : devices_) {
        if (!cmdline_.empty()) cmdline_ += ' ';
        cmdline_ += vmm::virtio_mmio_cmdline(d.mmio_base, vmm::VirtioMmioTransport::kWindowSize, d.irq);
      }
      x86::KernelImages images;
      images.kernel = read_file(config_.kernel->path, "kernel", config_.memory_bytes);
      if (!config_.kernel->initrd.empty()) images.initrd = read_file(config_.kernel->initrd, "initrd", config_.memory_bytes);
      auto boot = x86::load_kernel(*memory_, images, config_.kernel->path, cmdline_, config_.vcpus);
      bsp_regs = boot.regs;
      mode = boot.protocol == x86::BootProtocol::kPvh ? Mode::kPvh : Mode::kBzImage;
    }
  } catch (const MachineError&) {
    throw;
  } catch (const std::exception& e) {
    throw MachineError(e.what());
  }

  try {
    const hv::CpuidTable supported = vm_->supported_cpuid();
    const bool tsc_deadline = vm_->has_tsc_deadline_timer();
    for (uint32_t id = 0; id < config_.vcpus; ++id) {
      auto vcpu = vm_->create_vcpu(id);
      vcpu->set_cpuid(x86::filter_cpuid(supported, id, config_.vcpus, tsc_deadline));
      if (mode != Mode::kPayload) {
        vcpu->set_msrs(x86::boot_msrs());
        vcpu->set_fpu(hv::FpuState{});
      }
      if (vm_->has_irqchip()) vcpu->init_lapic();
      if (id == 0) {
        const auto current = vcpu->get_sregs();
        vcpu->set_sregs(mode == Mode::kPvh       ? x86::protected_mode_sregs(current)
                        : mode == Mode::kBzImage ? x86::long_mode_kernel_sregs(current)
                                                 : x86::long_mode_user_sregs(current));
        vcpu->set_regs(bsp_regs);
      }
      vcpus_.push_back(std::move(vcpu));
    }
  } catch (const hv::HvError& e) {
    throw MachineError(std::string("configuring the vCPUs failed: ") + e.what());
  }
}

Machine::~Machine() {
  kill();
  for (auto& t : vcpu_threads_)
    if (t.joinable()) t.join();
  if (event_thread_.joinable()) event_thread_.join();
  if (console_fd_ >= 0) ::close(console_fd_);
}

void Machine::on_console(std::span<const uint8_t> bytes) {
  if (console_fd_ >= 0) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(console_fd_, bytes.data() + off, bytes.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }
  {
    std::lock_guard lock(console_mutex_);
    for (uint8_t b : bytes) console_tail_.push_back(static_cast<char>(b));
    while (console_tail_.size() > kConsoleTailBytes) console_tail_.pop_front();
  }
  if (config_.console_events && events_.console) events_.console(bytes);
}

std::string Machine::console_tail() const {
  std::lock_guard lock(console_mutex_);
  return std::string(console_tail_.begin(), console_tail_.end());
}

}  // namespace moat::machine
