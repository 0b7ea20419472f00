/** T1 test payload loading: binary, t1_boot_info, GDT and CPL3 identity page tables. */
#include "arch/x86_64/test_payload.h"

#include <cstring>
#include <stdexcept>

#include "arch/x86_64/cpu_state.h"
#include "arch/x86_64/layout.h"

namespace moat::arch::x86_64 {

PayloadBoot load_test_payload(const vmm::GuestMemory& mem, const std::vector<uint8_t>& binary,
                              const std::string& args, const std::vector<uint32_t>& device_ids) {
  const uint64_t max_size = kPayloadFreeRamStart - kPayloadLoadAddr;
  if (binary.empty()) throw std::runtime_error("test payload is empty");
  if (binary.size() > max_size)
    throw std::runtime_error("test payload is " + std::to_string(binary.size()) + " bytes; the limit is " +
                             std::to_string(max_size) + " (it must fit between 0x400000 and 0x1000000)");
  if (args.size() >= kT1ArgsSize)
    throw std::runtime_error("test payload args are " + std::to_string(args.size()) +
                             " bytes; the limit is " + std::to_string(kT1ArgsSize - 1));
  if (device_ids.size() > kT1MaxDevices)
    throw std::runtime_error("test payload mode supports at most 16 devices");
  if (mem.total_size() < kPayloadFreeRamStart)
    throw std::runtime_error("test payload mode needs at least 16 MiB of guest memory");

  if (!mem.write(kPayloadLoadAddr, binary)) throw std::runtime_error("test payload does not fit in guest memory");

  T1BootInfo info{};
  info.magic = kT1Magic;
  info.mem_size = mem.total_size();
  info.mmio_base = kMmioWindowStart;
  info.mmio_stride = kMmioStride;
  info.device_count = static_cast<uint32_t>(device_ids.size());
  for (size_t i = 0; i < device_ids.size(); ++i) info.device_ids[i] = device_ids[i];
  std::memcpy(info.args, args.data(), args.size());
  if (!mem.write_obj(kPayloadBootInfoAddr, info) || !write_gdt(mem) || !write_identity_page_tables(mem, true))
    throw std::runtime_error("guest memory too small for the test payload boot structures");

  PayloadBoot boot;
  boot.regs.rip = kPayloadLoadAddr;
  boot.regs.rsp = kPayloadBootInfoAddr;
  boot.regs.rdi = kPayloadBootInfoAddr;
  boot.regs.rflags = 0x2 | (3u << 12);  // reserved bit 1, IOPL=3, IF=0
  return boot;
}

}  // namespace moat::arch::x86_64
