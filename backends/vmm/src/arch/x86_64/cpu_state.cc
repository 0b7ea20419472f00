/** Boot-time CPU state: GDT/TSS encoding, identity page tables and register presets. */
#include "arch/x86_64/cpu_state.h"

#include "arch/x86_64/layout.h"

namespace moat::arch::x86_64 {
namespace {

hv::Segment segment(uint16_t selector, uint8_t type, uint8_t dpl, bool code64, bool db, bool system = false,
                    uint64_t base = 0, uint32_t limit = 0xfffff, bool granular = true) {
  hv::Segment s;
  s.base = base;
  s.limit = granular ? 0xffffffff : limit;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = dpl;
  s.db = db ? 1 : 0;
  s.s = system ? 0 : 1;
  s.l = code64 ? 1 : 0;
  s.g = granular ? 1 : 0;
  return s;
}

/** Encodes a segment as an 8-byte GDT descriptor (the low half for system descriptors). */
uint64_t descriptor(const hv::Segment& s) {
  uint32_t limit = s.g ? (s.limit >> 12) : s.limit;
  uint64_t d = 0;
  d |= limit & 0xffffULL;
  d |= (s.base & 0xffffffULL) << 16;
  d |= static_cast<uint64_t>(s.type & 0xf) << 40;
  d |= static_cast<uint64_t>(s.s & 1) << 44;
  d |= static_cast<uint64_t>(s.dpl & 3) << 45;
  d |= static_cast<uint64_t>(s.present & 1) << 47;
  d |= static_cast<uint64_t>((limit >> 16) & 0xf) << 48;
  d |= static_cast<uint64_t>(s.avl & 1) << 52;
  d |= static_cast<uint64_t>(s.l & 1) << 53;
  d |= static_cast<uint64_t>(s.db & 1) << 54;
  d |= static_cast<uint64_t>(s.g & 1) << 55;
  d |= ((s.base >> 24) & 0xffULL) << 56;
  return d;
}

constexpr uint8_t kCodeType = 0xb;  // execute/read, accessed
constexpr uint8_t kDataType = 0x3;  // read/write, accessed
constexpr uint8_t kTss64BusyType = 0xb;
// 104-byte TSS + an I/O permission bitmap of 65536 bits (all zero: every port allowed at CPL3)
// + the terminating 0xff byte.
constexpr uint32_t kIoBitmapOffset = 0x68;
constexpr uint32_t kTssLimit = kIoBitmapOffset + 8192;

hv::Segment code32() { return segment(kCode32Selector, kCodeType, 0, false, true); }
hv::Segment code64() { return segment(kCode64Selector, kCodeType, 0, true, false); }
hv::Segment data() { return segment(kDataSelector, kDataType, 0, false, true); }
hv::Segment user_code64() { return segment(kUserCode64Selector, kCodeType, 3, true, false); }
hv::Segment user_data() { return segment(kUserDataSelector, kDataType, 3, false, true); }
hv::Segment tss() { return segment(kTssSelector, kTss64BusyType, 0, false, false, true, kTssAddr, kTssLimit, false); }

hv::Segment unusable() {
  hv::Segment s;
  s.unusable = 1;
  return s;
}

void set_common(hv::SpecialRegs& s) {
  s.gdt = {kGdtAddr, 7 * 8 + 8 - 1};
  s.idt = {0, 0};
  s.tr = tss();
  s.ldt = unusable();
  s.ldt.type = 2;
}

}  // namespace

bool write_gdt(const vmm::GuestMemory& mem) {
  const uint64_t table[8] = {
      0,
      descriptor(code32()),
      descriptor(code64()),
      descriptor(data()),
      descriptor(user_code64()),
      descriptor(user_data()),
      descriptor(tss()),
      (kTssAddr >> 32) & 0xffffffffULL,  // high half of the 16-byte 64-bit TSS descriptor
  };
  std::vector<uint8_t> tss_bytes(kTssLimit + 1, 0);
  tss_bytes[0x66] = kIoBitmapOffset & 0xff;
  tss_bytes[0x67] = kIoBitmapOffset >> 8;
  tss_bytes[kTssLimit] = 0xff;
  return mem.write_obj(kGdtAddr, table) && mem.write(kTssAddr, tss_bytes);
}

bool write_identity_page_tables(const vmm::GuestMemory& mem, bool user) {
  const uint64_t flags = 0x3 | (user ? 0x4 : 0);  // present, writable, [user]
  if (!mem.write_obj<uint64_t>(kPml4Addr, kPdptAddr | flags)) return false;
  for (uint64_t gib = 0; gib < 4; ++gib) {
    const uint64_t pd = kPdAddr + gib * 0x1000;
    if (!mem.write_obj<uint64_t>(kPdptAddr + gib * 8, pd | flags)) return false;
    uint64_t entries[512];
    for (uint64_t i = 0; i < 512; ++i) entries[i] = ((gib << 30) + (i << 21)) | flags | 0x80;  // PS: 2 MiB
    if (!mem.write_obj(pd, entries)) return false;
  }
  return true;
}

hv::SpecialRegs protected_mode_sregs(const hv::SpecialRegs& current) {
  hv::SpecialRegs s = current;
  s.cs = code32();
  s.ds = s.es = s.fs = s.gs = s.ss = data();
  set_common(s);
  s.tr.type = 0xb;  // 32-bit busy TSS has the same type value
  s.cr0 = 0x11;     // PE | ET
  s.cr3 = 0;
  s.cr4 = 0;
  s.efer = 0;
  return s;
}

hv::SpecialRegs long_mode_kernel_sregs(const hv::SpecialRegs& current) {
  hv::SpecialRegs s = current;
  s.cs = code64();
  s.ds = s.es = s.fs = s.gs = s.ss = data();
  set_common(s);
  s.cr0 = 0x80050033;  // PG | AM | WP | NE | ET | MP | PE
  s.cr3 = kPml4Addr;
  s.cr4 = 0x20 | 0x200 | 0x400;  // PAE | OSFXSR | OSXMMEXCPT
  s.efer = 0x500;                // LME | LMA
  return s;
}

hv::SpecialRegs long_mode_user_sregs(const hv::SpecialRegs& current) {
  hv::SpecialRegs s = long_mode_kernel_sregs(current);
  s.cs = user_code64();
  s.ds = s.es = s.fs = s.gs = s.ss = user_data();
  return s;
}

std::vector<hv::Msr> boot_msrs() {
  return {
      {0x174, 0}, {0x175, 0}, {0x176, 0},          // IA32_SYSENTER_CS/ESP/EIP
      {0xc0000081, 0}, {0xc0000082, 0},            // STAR, LSTAR
      {0xc0000083, 0}, {0xc0000084, 0},            // CSTAR, SYSCALL_MASK
      {0xc0000102, 0},                             // KERNEL_GS_BASE
      {0x10, 0},                                   // IA32_TSC
      {0x1a0, 1},                                  // IA32_MISC_ENABLE: fast strings
      {0x2ff, (1u << 11) | 6},                     // MTRRdefType: enabled, write-back
  };
}

}  // namespace moat::arch::x86_64
