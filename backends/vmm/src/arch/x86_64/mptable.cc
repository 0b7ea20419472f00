/**
 * MP table (Intel MultiProcessor Specification 1.4): the floating pointer in the EBDA, the
 * configuration table at 0xf0000 (BIOS area, reserved in the e820 map), with one processor entry per vCPU
 * (APIC id = vCPU id, vCPU 0 the BSP), an ISA bus, the IOAPIC (id = vcpus) and an interrupt entry
 * per IOAPIC pin, plus LINT0 = ExtINT and LINT1 = NMI. Linux scans the EBDA for "_MP_" when there
 * is no ACPI, which is how it brings up the APs and routes device interrupts.
 */
#include <cstring>
#include <vector>

#include "arch/x86_64/kernel_loader.h"
#include "arch/x86_64/layout.h"

namespace moat::arch::x86_64 {
namespace {

constexpr uint32_t kIoapicPins = 24;

void put8(std::vector<uint8_t>& b, uint8_t v) { b.push_back(v); }
void put16(std::vector<uint8_t>& b, uint16_t v) { for (int i = 0; i < 2; ++i) b.push_back(uint8_t(v >> (8 * i))); }
void put32(std::vector<uint8_t>& b, uint32_t v) { for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i))); }
void put_str(std::vector<uint8_t>& b, const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(s[i]));
}

uint8_t checksum(const uint8_t* p, size_t n) {
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + p[i]);
  return static_cast<uint8_t>(-sum);
}

}  // namespace

bool write_mptable(const vmm::GuestMemory& mem, uint32_t vcpus) {
  const uint64_t fp_addr = kEbdaStart;
  const uint64_t table_addr = kMpConfigTableAddr;  // in the BIOS area, room for 64 vCPUs
  const uint8_t ioapic_id = static_cast<uint8_t>(vcpus);

  std::vector<uint8_t> t;
  put_str(t, "PCMP", 4);
  put16(t, 0);  // base table length, patched below
  put8(t, 4);   // spec revision 1.4
  put8(t, 0);   // checksum, patched below
  put_str(t, "MOAT    ", 8);
  put_str(t, "MOATVMM     ", 12);
  put32(t, 0);  // OEM table pointer
  put16(t, 0);  // OEM table size
  put16(t, 0);  // entry count, patched below
  put32(t, static_cast<uint32_t>(kLapicAddr));
  put16(t, 0);  // extended table length
  put8(t, 0);   // extended table checksum
  put8(t, 0);
  uint16_t entries = 0;

  for (uint32_t id = 0; id < vcpus; ++id, ++entries) {
    put8(t, 0);                           // processor
    put8(t, static_cast<uint8_t>(id));    // local APIC id
    put8(t, 0x14);                        // local APIC version
    put8(t, id == 0 ? 0x3 : 0x1);         // enabled (| BSP)
    put32(t, 0x600);                      // CPU signature: family 6
    put32(t, 0x201);                      // features: FPU, APIC
    put32(t, 0);
    put32(t, 0);
  }
  put8(t, 1);  // bus
  put8(t, 0);
  put_str(t, "ISA   ", 6);
  ++entries;
  put8(t, 2);  // IOAPIC
  put8(t, ioapic_id);
  put8(t, 0x11);
  put8(t, 1);  // enabled
  put32(t, static_cast<uint32_t>(kIoapicAddr));
  ++entries;
  for (uint32_t pin = 0; pin < kIoapicPins; ++pin, ++entries) {
    put8(t, 3);   // I/O interrupt assignment
    put8(t, 0);   // INT
    put16(t, 0);  // polarity/trigger: conforms to the bus
    put8(t, 0);   // source bus: ISA
    put8(t, static_cast<uint8_t>(pin));
    put8(t, ioapic_id);
    put8(t, static_cast<uint8_t>(pin));
  }
  const uint8_t lints[2][2] = {{3, 0}, {1, 1}};  // {type, LINT#}: ExtINT on LINT0, NMI on LINT1
  for (const auto& l : lints) {
    put8(t, 4);  // local interrupt assignment
    put8(t, l[0]);
    put16(t, 0);
    put8(t, 0);
    put8(t, 0);
    put8(t, 0xff);  // every local APIC
    put8(t, l[1]);
    ++entries;
  }
  t[4] = static_cast<uint8_t>(t.size());
  t[5] = static_cast<uint8_t>(t.size() >> 8);
  t[34] = static_cast<uint8_t>(entries);
  t[35] = static_cast<uint8_t>(entries >> 8);
  t[7] = checksum(t.data(), t.size());
  if (table_addr + t.size() > kHighMemoryStart) return false;

  uint8_t fp[16] = {'_', 'M', 'P', '_'};
  const uint32_t table32 = static_cast<uint32_t>(table_addr);
  std::memcpy(fp + 4, &table32, 4);
  fp[8] = 1;  // length in 16-byte units
  fp[9] = 4;  // spec revision
  fp[10] = checksum(fp, sizeof fp);
  return mem.write(fp_addr, fp) && mem.write(table_addr, t);
}

}  // namespace moat::arch::x86_64
