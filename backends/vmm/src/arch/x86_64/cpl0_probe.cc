/** The CPL0 probe (see cpl0_probe.h): 4 MiB of memory, GDT, page tables, IDT, two code snippets. */
#include "arch/x86_64/cpl0_probe.h"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "arch/x86_64/cpu_state.h"
#include "arch/x86_64/layout.h"
#include "memory/guest_memory.h"

namespace moat::arch::x86_64 {
namespace {

constexpr uint64_t kMemSize = 4ull << 20;
constexpr uint64_t kIdtAddr = 0x2000;
constexpr uint64_t kCodeAddr = 0x200000;
constexpr uint64_t kHandlerAddr = 0x201000;
constexpr uint64_t kStackTop = 0x300000;
constexpr uint32_t kMagic = 0xdeadbeef;

// mov ecx, 1000000; dec ecx; jnz -4; int3; hlt
constexpr std::array<uint8_t, 11> kMain = {0xb9, 0x40, 0x42, 0x0f, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xcc, 0xf4};
// mov dx, 0x604; mov eax, 0xdeadbeef; out dx, eax; hlt
constexpr std::array<uint8_t, 11> kHandler = {0x66, 0xba, 0x04, 0x06, 0xb8, 0xef, 0xbe, 0xad, 0xde, 0xef, 0xf4};

}  // namespace

Cpl0ProbeResult run_cpl0_probe(hv::Hypervisor& hypervisor, int timeout_ms) {
  Cpl0ProbeResult result;
  std::string error;
  const std::array<vmm::RegionSpec, 1> regions{vmm::RegionSpec{0, kMemSize}};
  auto mem = vmm::GuestMemory::create(regions, error);
  if (!mem) {
    result.detail = "probe memory: " + error;
    return result;
  }
  uint8_t gate[16] = {};
  gate[0] = kHandlerAddr & 0xff;
  gate[1] = (kHandlerAddr >> 8) & 0xff;
  gate[2] = kCode64Selector & 0xff;
  gate[5] = 0x8e;  // present, DPL0, 64-bit interrupt gate
  gate[6] = (kHandlerAddr >> 16) & 0xff;
  gate[7] = (kHandlerAddr >> 24) & 0xff;
  if (!write_gdt(*mem) || !write_identity_page_tables(*mem, false) || !mem->write(kIdtAddr + 3 * 16, gate) ||
      !mem->write(kCodeAddr, kMain) || !mem->write(kHandlerAddr, kHandler)) {
    result.detail = "probe memory layout";
    return result;
  }

  try {
    auto vm = hypervisor.create_vm({.irqchip = false});
    vm->map_memory(0, 0, mem->regions()[0].host, kMemSize, false);
    auto vcpu = vm->create_vcpu(0);
    vcpu->set_cpuid(vm->supported_cpuid());
    auto sregs = long_mode_kernel_sregs(vcpu->get_sregs());
    sregs.idt = {kIdtAddr, 16 * 4 - 1};
    vcpu->set_sregs(sregs);
    hv::Regs regs;
    regs.rip = kCodeAddr;
    regs.rsp = kStackTop;
    regs.rflags = 0x2;
    vcpu->set_regs(regs);

    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::atomic<bool> timed_out{false};
    std::thread watchdog([&] {
      std::unique_lock lock(m);
      if (!cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done; })) {
        timed_out = true;
        vcpu->kick();
      }
    });
    const auto start = std::chrono::steady_clock::now();
    hv::VcpuExit exit;
    for (;;) {
      exit = vcpu->run();
      if (exit.kind == hv::VcpuExit::Kind::Interrupted && !timed_out) {
        vcpu->clear_kick();
        continue;
      }
      break;
    }
    result.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    {
      std::lock_guard lock(m);
      done = true;
    }
    cv.notify_all();
    watchdog.join();
    result.timed_out = timed_out;

    uint32_t value = 0;
    if (exit.kind == hv::VcpuExit::Kind::IoOut && exit.port == kExitPort && exit.data.size() == 4)
      std::memcpy(&value, exit.data.data(), 4);
    if (value == kMagic) {
      result.ok = true;
    } else if (result.timed_out) {
      result.detail = "a 1M-iteration CPL0 loop did not finish within " + std::to_string(timeout_ms) + " ms";
    } else {
      result.detail = std::string("the CPL0 probe ended with an unexpected exit (") + hv::exit_kind_name(exit.kind) + ")" +
                      (exit.detail.empty() ? "" : ": " + exit.detail);
    }
  } catch (const hv::HvError& e) {
    result.detail = e.what();
  }
  return result;
}

}  // namespace moat::arch::x86_64
