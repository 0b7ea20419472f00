/**
 * T0 unit tests of the x86_64 boot code (backends/vmm/src/arch/x86_64) on real guest-memory
 * mappings, no hypervisor: PVH ELF loading (note, segments, hvm_start_info, memmap, initrd module),
 * bzImage loading (boot_params fields, E820, entry), MP table checksums and entries, the E820 map,
 * CPUID filtering (incl. the TSC-deadline bit), the T1 payload layout, and the errors bad images
 * get. doctest; built by the package build into build/boot_test and run by test/boot-unit.test.ts.
 */
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <elf.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/kernel_loader.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/test_payload.h"
#include "memory/guest_memory.h"

using namespace moat;
using namespace moat::arch::x86_64;

namespace {

std::unique_ptr<vmm::GuestMemory> memory(uint64_t size) {
  std::string error;
  std::array<vmm::RegionSpec, 1> regions{vmm::RegionSpec{0, size}};
  auto mem = vmm::GuestMemory::create(regions, error);
  REQUIRE_MESSAGE(mem, error);
  return mem;
}

template <class T>
T at(const vmm::GuestMemory& mem, uint64_t gpa) {
  auto v = mem.read_obj<T>(gpa);
  REQUIRE(v.has_value());
  return *v;
}

std::string cstring(const vmm::GuestMemory& mem, uint64_t gpa) {
  std::string s;
  for (char c; (c = static_cast<char>(at<uint8_t>(mem, gpa + s.size()))) != 0;) s += c;
  return s;
}

/** A minimal ELF64 vmlinux: one PT_LOAD of `code` at `paddr` (+ bss), one PT_NOTE (Xen PVH entry). */
std::vector<uint8_t> pvh_elf(uint64_t paddr, const std::vector<uint8_t>& code, uint64_t bss, uint32_t entry, bool with_note = true) {
  std::vector<uint8_t> note;
  auto put32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) note.push_back(uint8_t(v >> (8 * i))); };
  put32(4); put32(4); put32(18);
  for (char c : std::string("Xen", 4)) note.push_back(uint8_t(c));
  put32(entry);

  const uint64_t phoff = sizeof(Elf64_Ehdr);
  const uint64_t note_off = phoff + 2 * sizeof(Elf64_Phdr);
  const uint64_t code_off = (note_off + note.size() + 15) & ~15ULL;
  std::vector<uint8_t> image(code_off + code.size(), 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = phoff;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 2;
  std::memcpy(image.data(), &eh, sizeof eh);
  Elf64_Phdr load{};
  load.p_type = PT_LOAD;
  load.p_offset = code_off;
  load.p_paddr = paddr;
  load.p_filesz = code.size();
  load.p_memsz = code.size() + bss;
  Elf64_Phdr nt{};
  nt.p_type = with_note ? PT_NOTE : PT_NULL;
  nt.p_offset = note_off;
  nt.p_filesz = note.size();
  std::memcpy(image.data() + phoff, &load, sizeof load);
  std::memcpy(image.data() + phoff + sizeof load, &nt, sizeof nt);
  std::memcpy(image.data() + note_off, note.data(), note.size());
  std::memcpy(image.data() + code_off, code.data(), code.size());
  return image;
}

/** A minimal bzImage: setup header (protocol 2.15, 64-bit entry) + `kernel` after 2 setup sectors. */
std::vector<uint8_t> bzimage(const std::vector<uint8_t>& kernel) {
  std::vector<uint8_t> image(3 * 512, 0);
  image[0x1f1] = 2;     // setup_sects
  image[0x201] = 0x66;  // header length (jump)
  std::memcpy(&image[0x202], "HdrS", 4);
  const uint16_t version = 0x20f, xload = 1;
  const uint32_t cmdline_size = 2047, initrd_max = 0x7fffffff, init_size = 0x200000;
  std::memcpy(&image[0x206], &version, 2);
  std::memcpy(&image[0x236], &xload, 2);
  std::memcpy(&image[0x238], &cmdline_size, 4);
  std::memcpy(&image[0x22c], &initrd_max, 4);
  std::memcpy(&image[0x260], &init_size, 4);
  image.insert(image.end(), kernel.begin(), kernel.end());
  return image;
}

uint8_t sum(const vmm::GuestMemory& mem, uint64_t gpa, size_t len) {
  uint8_t s = 0;
  for (size_t i = 0; i < len; ++i) s = uint8_t(s + at<uint8_t>(mem, gpa + i));
  return s;
}

}  // namespace

TEST_CASE("e820 map: base RAM, reserved EBDA and BIOS area, RAM from 1 MiB, RAM above 4 GiB") {
  auto small = e820_map(256ull << 20);
  REQUIRE(small.size() == 4);
  CHECK(small[0].addr == 0);
  CHECK(small[0].size == kEbdaStart);
  CHECK(small[3].addr == kHighMemoryStart);
  CHECK(small[3].addr + small[3].size == (256ull << 20));
  auto big = e820_map(5ull << 30);
  REQUIRE(big.size() == 5);
  CHECK(big[3].addr + big[3].size == kMmioWindowStart);
  CHECK(big[4].addr == kFourGiB);
  CHECK(big[4].size == (5ull << 30) - kMmioWindowStart);
}

TEST_CASE("PVH: segments, entry from the Xen note, start info, memmap, cmdline and initrd module") {
  auto mem = memory(64ull << 20);
  const std::vector<uint8_t> code{0xf4, 0x90, 0x90, 0x90};
  KernelImages images{pvh_elf(0x1000000, code, 4096, 0x1000123), std::vector<uint8_t>(10000, 0x5a)};
  auto boot = load_kernel(*mem, images, "/k", "console=ttyS0 quiet", 2);
  CHECK(boot.protocol == BootProtocol::kPvh);
  CHECK(boot.regs.rip == 0x1000123);
  CHECK(boot.regs.rbx == kPvhStartInfoAddr);
  CHECK(at<uint8_t>(*mem, 0x1000000) == 0xf4);
  CHECK(at<uint32_t>(*mem, kPvhStartInfoAddr) == 0x336ec578);     // magic
  CHECK(at<uint32_t>(*mem, kPvhStartInfoAddr + 4) == 1);           // version
  CHECK(at<uint32_t>(*mem, kPvhStartInfoAddr + 12) == 1);          // nr_modules
  const uint64_t modlist = at<uint64_t>(*mem, kPvhStartInfoAddr + 16);
  const uint64_t cmdline = at<uint64_t>(*mem, kPvhStartInfoAddr + 24);
  const uint64_t memmap = at<uint64_t>(*mem, kPvhStartInfoAddr + 40);
  const uint32_t entries = at<uint32_t>(*mem, kPvhStartInfoAddr + 48);
  CHECK(cstring(*mem, cmdline) == "console=ttyS0 quiet");
  const uint64_t initrd = at<uint64_t>(*mem, modlist);
  CHECK(at<uint64_t>(*mem, modlist + 8) == 10000);
  CHECK(initrd % 4096 == 0);
  CHECK(initrd + 10000 <= (64ull << 20));
  CHECK(initrd >= (64ull << 20) - 16384);
  CHECK(at<uint8_t>(*mem, initrd) == 0x5a);
  CHECK(entries == 4);
  CHECK(at<uint64_t>(*mem, memmap + 3 * 24) == kHighMemoryStart);   // addr of the 4th entry
  CHECK(at<uint32_t>(*mem, memmap + 3 * 24 + 16) == 1);             // RAM
}

TEST_CASE("MP table: floating pointer and table checksums are zero, one processor entry per vCPU") {
  auto mem = memory(64ull << 20);
  REQUIRE(write_mptable(*mem, 3));
  CHECK(at<uint32_t>(*mem, kEbdaStart) == 0x5f504d5f);  // "_MP_"
  CHECK(sum(*mem, kEbdaStart, 16) == 0);
  const uint32_t table = at<uint32_t>(*mem, kEbdaStart + 4);
  CHECK(table == kMpConfigTableAddr);
  CHECK(at<uint32_t>(*mem, table) == 0x504d4350);  // "PCMP"
  const uint16_t length = at<uint16_t>(*mem, table + 4);
  CHECK(sum(*mem, table, length) == 0);
  const uint16_t count = at<uint16_t>(*mem, table + 34);
  CHECK(count == 3 + 1 + 1 + 24 + 2);  // processors, bus, IOAPIC, 24 pins, 2 local
  uint64_t p = table + 44;
  for (uint32_t id = 0; id < 3; ++id, p += 20) {
    CHECK(at<uint8_t>(*mem, p) == 0);
    CHECK(at<uint8_t>(*mem, p + 1) == id);
    CHECK(at<uint8_t>(*mem, p + 3) == (id == 0 ? 3 : 1));
  }
  CHECK(write_mptable(*mem, 64));
}

TEST_CASE("bzImage: kernel at 1 MiB, boot_params with cmdline, initrd and E820; 64-bit entry") {
  auto mem = memory(64ull << 20);
  KernelImages images{bzimage(std::vector<uint8_t>(4096, 0xcc)), std::vector<uint8_t>(8192, 0x11)};
  auto boot = load_kernel(*mem, images, "/bz", "root=/dev/vda", 1);
  CHECK(boot.protocol == BootProtocol::kBzImage);
  CHECK(boot.regs.rip == kHighMemoryStart + 0x200);
  CHECK(boot.regs.rsi == kZeroPageAddr);
  CHECK(at<uint8_t>(*mem, kHighMemoryStart) == 0xcc);
  CHECK(at<uint32_t>(*mem, kZeroPageAddr + 0x202) == 0x53726448);  // "HdrS" copied
  CHECK(at<uint8_t>(*mem, kZeroPageAddr + 0x210) == 0xff);         // type_of_loader
  CHECK(cstring(*mem, at<uint32_t>(*mem, kZeroPageAddr + 0x228)) == "root=/dev/vda");
  const uint32_t ramdisk = at<uint32_t>(*mem, kZeroPageAddr + 0x218);
  CHECK(at<uint32_t>(*mem, kZeroPageAddr + 0x21c) == 8192);
  CHECK(at<uint8_t>(*mem, ramdisk) == 0x11);
  CHECK(at<uint8_t>(*mem, kZeroPageAddr + 0x1e8) == 4);             // e820 entries
  CHECK(at<uint64_t>(*mem, kZeroPageAddr + 0x2d0 + 3 * 20) == kHighMemoryStart);
  CHECK((at<uint64_t>(*mem, kPml4Addr) & ~0xfffULL) == kPdptAddr);  // identity page tables
}

TEST_CASE("bad images are refused with the path and the limit") {
  auto mem = memory(32ull << 20);
  auto message = [&](KernelImages images, const std::string& cmdline = "") {
    try {
      load_kernel(*mem, images, "/path/k", cmdline, 1);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message({std::vector<uint8_t>(4096, 0x41), {}}).find("/path/k is neither an ELF vmlinux nor a bzImage") != std::string::npos);
  CHECK(message({pvh_elf(0x1000000, {0xf4}, 0, 0x1000000, false), {}}).find("without a PVH entry note") != std::string::npos);
  CHECK(message({pvh_elf(0x1000000, {0xf4}, 0, 0x1000000), {}}, std::string(2048, 'x')).find("the limit is 2047") != std::string::npos);
  CHECK(message({pvh_elf(0x1000000, {0xf4}, 0, 0x1000000), std::vector<uint8_t>(40u << 20, 1)}).find("initrd of 40 MiB does not fit") != std::string::npos);
  CHECK(message({pvh_elf(0x4000000, {0xf4}, 0, 0x4000000), {}}).find("does not fit in guest memory of 32 MiB") != std::string::npos);
  auto old = bzimage({0x90});
  old[0x206] = 0x0b;  // protocol 2.11
  CHECK(message({old, {}}).find("boot protocol 0x20b") != std::string::npos);
}

TEST_CASE("CPUID filter: APIC ids, hypervisor bit, topology, no PMU/MONITOR/VMX, leaf 6 only ARAT") {
  hv::CpuidTable supported{
      {0x1, 0, 0, 0x00a00f11, 0x00000800, (1u << 3) | (1u << 5), 0x078bfbff},
      {0xa, 0, 0, 0x07300403, 1, 2, 3},
      {0x6, 0, 0, 0x77, 1, 9, 0},  // turbo, ARAT, PLN, ... : only ARAT (bit 2) stays
      {0xb, 0, 1, 0, 0, 0, 0},
      {0xb, 1, 1, 0, 0, 0, 0},
  };
  auto t = filter_cpuid(supported, 2, 4, false);
  CHECK((t[0].ebx >> 24) == 2);
  CHECK(((t[0].ebx >> 16) & 0xff) == 4);
  CHECK((t[0].ecx & (1u << 31)) != 0);
  CHECK((t[0].ecx & ((1u << 3) | (1u << 5))) == 0);
  CHECK((t[0].edx & (1u << 28)) != 0);
  CHECK(t[1].eax == 0);
  CHECK(t[2].eax == 0x4);
  CHECK(t[2].ebx == 0);
  CHECK(t[2].ecx == 0);
  CHECK(t[3].edx == 2);
  CHECK(t[4].ebx == 4);
  CHECK(t[4].eax == 2);
  CHECK((t[0].ecx & (1u << 24)) == 0);
}

TEST_CASE("CPUID filter: TSC-deadline bit when the hypervisor emulates it; KVM leaves pass through") {
  hv::CpuidTable supported{
      {0x1, 0, 0, 0x00a00f11, 0x00000800, 0x81202000, 0x078bfbff},  // KVM 6.1: no TSC-deadline bit
      {0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d},
      {0x40000001, 0, 0, 0x01007efb, 0, 0, 0},
  };
  auto t = filter_cpuid(supported, 0, 1, true);
  REQUIRE(t.size() == 3);
  CHECK((t[0].ecx & (1u << 24)) != 0);
  CHECK((t[0].ecx & 0x81202000) == 0x81202000);
  CHECK(t[1].eax == 0x40000001);
  CHECK(t[1].ebx == 0x4b4d564b);  // "KVMKVMKVM\0\0\0"
  CHECK(t[1].ecx == 0x564b4d56);
  CHECK(t[1].edx == 0x4d);
  CHECK(t[2].eax == 0x01007efb);  // kvmclock and the other paravirt features
}

TEST_CASE("T1 payload: binary at 0x400000, boot info at 0x3ff000, user page tables, IOPL 3") {
  auto mem = memory(32ull << 20);
  auto boot = load_test_payload(*mem, {0xeb, 0xfe}, "a=1", {19, 2});
  CHECK(boot.regs.rip == kPayloadLoadAddr);
  CHECK(boot.regs.rdi == kPayloadBootInfoAddr);
  CHECK(boot.regs.rsp == kPayloadBootInfoAddr);
  CHECK(((boot.regs.rflags >> 12) & 3) == 3);
  CHECK((boot.regs.rflags & (1u << 9)) == 0);
  auto info = at<T1BootInfo>(*mem, kPayloadBootInfoAddr);
  CHECK(info.magic == kT1Magic);
  CHECK(info.mem_size == (32ull << 20));
  CHECK(info.device_count == 2);
  CHECK(info.device_ids[0] == 19);
  CHECK(std::string(info.args) == "a=1");
  CHECK((at<uint64_t>(*mem, kPml4Addr) & 0x4) != 0);  // U/S at every level
  CHECK((at<uint64_t>(*mem, kPdAddr + 3 * 4096 + 128 * 8) & 0x87) == 0x87);  // 0xd0000000 mapped user
  CHECK_THROWS_WITH_AS(load_test_payload(*mem, std::vector<uint8_t>(13u << 20, 0), "", {}),
                       doctest::Contains("the limit is 12582912"), std::runtime_error);
}
