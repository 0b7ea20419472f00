/**
 * Kernel loading: format detection, ELF/PVH and bzImage loaders, command line, initrd placement
 * and the RAM map. Field offsets follow Documentation/arch/x86/boot.rst (boot protocol 2.12+) and
 * Xen's public/arch-x86/hvm/start_info.h.
 */
#include "arch/x86_64/kernel_loader.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "arch/x86_64/cpu_state.h"
#include "arch/x86_64/layout.h"

namespace moat::arch::x86_64 {
namespace {

using std::runtime_error;

constexpr uint32_t kXenElfnotePhys32Entry = 18;
constexpr uint32_t kHvmStartMagic = 0x336ec578;

#pragma pack(push, 1)
struct HvmStartInfo {
  uint32_t magic, version, flags, nr_modules;
  uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
  uint32_t memmap_entries, reserved;
};
struct HvmModlistEntry {
  uint64_t paddr, size, cmdline_paddr, reserved;
};
struct HvmMemmapEntry {
  uint64_t addr, size;
  uint32_t type, reserved;
};
struct BootE820Entry {
  uint64_t addr, size;
  uint32_t type;
};
#pragma pack(pop)

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

template <class T>
T get(const std::vector<uint8_t>& image, uint64_t offset, const std::string& path) {
  if (offset > image.size() || image.size() - offset < sizeof(T))
    throw runtime_error("kernel " + path + " is truncated (needs bytes at offset " + hex(offset) + ")");
  T v;
  std::memcpy(&v, image.data() + offset, sizeof(T));
  return v;
}

void check_cmdline(const std::string& cmdline, uint64_t limit) {
  if (cmdline.size() + 1 > limit)
    throw runtime_error("kernel command line is " + std::to_string(cmdline.size()) +
                        " bytes; the limit is " + std::to_string(limit - 1));
}

void write_or_throw(const vmm::GuestMemory& mem, uint64_t gpa, std::span<const uint8_t> bytes, const std::string& what) {
  if (!mem.write(gpa, bytes))
    throw runtime_error(what + " (" + std::to_string(bytes.size()) + " bytes at " + hex(gpa) +
                        ") does not fit in guest memory of " + std::to_string(mem.total_size() >> 20) + " MiB");
}

/** Puts the initrd page-aligned at the top of low RAM, above `kernel_end` and below `max_end`. */
uint64_t place_initrd(const vmm::GuestMemory& mem, const std::vector<uint8_t>& initrd, uint64_t kernel_end,
                      uint64_t max_end) {
  const uint64_t low_end = std::min(ram_layout(mem.total_size()).low_size, max_end);
  if (initrd.size() > low_end || ((low_end - initrd.size()) & ~0xfffULL) < kernel_end)
    throw runtime_error("initrd of " + std::to_string(initrd.size() >> 20) + " MiB does not fit between the kernel (ends at " +
                        hex(kernel_end) + ") and " + hex(low_end) + ": give the machine more memory");
  const uint64_t addr = (low_end - initrd.size()) & ~0xfffULL;
  write_or_throw(mem, addr, initrd, "initrd");
  return addr;
}

struct ElfLoad {
  uint64_t entry = 0;
  uint64_t end = 0;
  bool has_pvh = false;
};

ElfLoad load_elf(const vmm::GuestMemory& mem, const std::vector<uint8_t>& image, const std::string& path) {
  auto eh = get<Elf64_Ehdr>(image, 0, path);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
    throw runtime_error("kernel " + path + " is an ELF file but not an x86_64 ELF64 vmlinux");
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) throw runtime_error("kernel " + path + ": unexpected ELF program header size");
  ElfLoad out;
  std::vector<Elf64_Phdr> phdrs;
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    auto ph = get<Elf64_Phdr>(image, eh.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr), path);
    if (ph.p_offset > image.size() || image.size() - ph.p_offset < ph.p_filesz ||
        (ph.p_type == PT_LOAD && ph.p_filesz > ph.p_memsz))
      throw runtime_error("kernel " + path + ": program header " + std::to_string(i) + " points outside the file");
    phdrs.push_back(ph);
  }
  // First the PVH entry note (so a non-PVH ELF is named as such), then the segments.
  for (const auto& ph : phdrs) {
    if (ph.p_type != PT_NOTE) continue;
    uint64_t off = ph.p_offset;
    const uint64_t end = ph.p_offset + ph.p_filesz;
    while (off + sizeof(Elf64_Nhdr) <= end) {
      auto nh = get<Elf64_Nhdr>(image, off, path);
      const uint64_t name_off = off + sizeof(Elf64_Nhdr);
      const uint64_t desc_off = name_off + ((uint64_t(nh.n_namesz) + 3) & ~3ULL);
      const uint64_t next = desc_off + ((uint64_t(nh.n_descsz) + 3) & ~3ULL);
      if (next > end) break;
      if (nh.n_type == kXenElfnotePhys32Entry && nh.n_namesz == 4 &&
          std::memcmp(image.data() + name_off, "Xen", 4) == 0 && nh.n_descsz >= 4) {
        out.entry = nh.n_descsz >= 8 ? get<uint64_t>(image, desc_off, path) : get<uint32_t>(image, desc_off, path);
        out.has_pvh = true;
      }
      off = next;
    }
  }
  if (!out.has_pvh)
    throw runtime_error("kernel " + path + " is an ELF vmlinux without a PVH entry note "
                        "(XEN_ELFNOTE_PHYS32_ENTRY): build it with CONFIG_PVH=y, or use a bzImage");
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const auto& ph = phdrs[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::string what = "kernel " + path + " segment " + std::to_string(i);
    write_or_throw(mem, ph.p_paddr, std::span<const uint8_t>(image.data() + ph.p_offset, ph.p_filesz), what);
    if (ph.p_memsz > ph.p_filesz) {
      std::vector<uint8_t> zeros(ph.p_memsz - ph.p_filesz, 0);
      write_or_throw(mem, ph.p_paddr + ph.p_filesz, zeros, what + " (bss)");
    }
    out.end = std::max(out.end, ph.p_paddr + ph.p_memsz);
  }
  return out;
}

KernelBoot boot_pvh(const vmm::GuestMemory& mem, const KernelImages& images, const std::string& path,
                    const std::string& cmdline) {
  check_cmdline(cmdline, kCmdlineMax);
  const ElfLoad elf = load_elf(mem, images.kernel, path);

  HvmStartInfo info{};
  info.magic = kHvmStartMagic;
  info.version = 1;
  info.cmdline_paddr = kCmdlineAddr;
  std::vector<uint8_t> cmd(cmdline.begin(), cmdline.end());
  cmd.push_back(0);
  write_or_throw(mem, kCmdlineAddr, cmd, "command line");

  if (!images.initrd.empty()) {
    HvmModlistEntry mod{};
    mod.paddr = place_initrd(mem, images.initrd, elf.end, kMmioWindowStart);
    mod.size = images.initrd.size();
    if (!mem.write_obj(kPvhModlistAddr, mod)) throw runtime_error("guest memory too small for the PVH module list");
    info.nr_modules = 1;
    info.modlist_paddr = kPvhModlistAddr;
  }
  const auto map = e820_map(mem.total_size());
  for (size_t i = 0; i < map.size(); ++i) {
    HvmMemmapEntry e{map[i].addr, map[i].size, map[i].type, 0};
    if (!mem.write_obj(kPvhMemmapAddr + i * sizeof e, e)) throw runtime_error("guest memory too small for the PVH memmap");
  }
  info.memmap_paddr = kPvhMemmapAddr;
  info.memmap_entries = static_cast<uint32_t>(map.size());
  if (!mem.write_obj(kPvhStartInfoAddr, info) || !write_gdt(mem))
    throw runtime_error("guest memory too small for the PVH start info");

  KernelBoot boot;
  boot.protocol = BootProtocol::kPvh;
  boot.regs.rip = elf.entry;
  boot.regs.rbx = kPvhStartInfoAddr;
  boot.regs.rflags = 0x2;
  return boot;
}

KernelBoot boot_bzimage(const vmm::GuestMemory& mem, const KernelImages& images, const std::string& path,
                        const std::string& cmdline) {
  const auto& image = images.kernel;
  const uint16_t version = get<uint16_t>(image, 0x206, path);
  if (version < 0x20c)
    throw runtime_error("bzImage " + path + " uses boot protocol " + hex(version) +
                        "; moat needs 2.12 or later (a 64-bit entry point)");
  const uint16_t xloadflags = get<uint16_t>(image, 0x236, path);
  if (!(xloadflags & 0x1)) throw runtime_error("bzImage " + path + " has no 64-bit entry point (XLF_KERNEL_64)");
  check_cmdline(cmdline, std::min<uint64_t>(get<uint32_t>(image, 0x238, path) + 1, kCmdlineMax));

  uint32_t setup_sects = get<uint8_t>(image, 0x1f1, path);
  if (setup_sects == 0) setup_sects = 4;
  const uint64_t kernel_offset = (uint64_t(setup_sects) + 1) * 512;
  if (kernel_offset >= image.size()) throw runtime_error("bzImage " + path + " is truncated (no protected-mode kernel)");
  const uint64_t load_addr = kHighMemoryStart;
  std::span<const uint8_t> kernel(image.data() + kernel_offset, image.size() - kernel_offset);
  write_or_throw(mem, load_addr, kernel, "kernel " + path);
  // The kernel decompresses in place; reserve at least its stated init_size above the load address.
  const uint64_t kernel_end = load_addr + std::max<uint64_t>(kernel.size(), get<uint32_t>(image, 0x260, path));

  // boot_params: zero page + the image's setup header, then what the loader fills in.
  std::vector<uint8_t> zero_page(4096, 0);
  const uint64_t header_end = 0x202 + get<uint8_t>(image, 0x201, path);
  if (header_end > image.size() || header_end > zero_page.size()) throw runtime_error("bzImage " + path + ": bad setup header length");
  std::memcpy(zero_page.data() + 0x1f1, image.data() + 0x1f1, header_end - 0x1f1);
  auto put = [&](size_t off, auto value) { std::memcpy(zero_page.data() + off, &value, sizeof value); };
  put(0x210, uint8_t{0xff});                       // type_of_loader: undefined
  put(0x211, uint8_t(get<uint8_t>(image, 0x211, path) | 0x80));  // loadflags: CAN_USE_HEAP
  put(0x224, uint16_t{0xfe00});                    // heap_end_ptr
  put(0x228, uint32_t(kCmdlineAddr));              // cmd_line_ptr
  std::vector<uint8_t> cmd(cmdline.begin(), cmdline.end());
  cmd.push_back(0);
  write_or_throw(mem, kCmdlineAddr, cmd, "command line");
  if (!images.initrd.empty()) {
    const uint64_t max = uint64_t(get<uint32_t>(image, 0x22c, path)) + 1;  // initrd_addr_max
    const uint64_t addr = place_initrd(mem, images.initrd, kernel_end, std::min(max, kMmioWindowStart));
    put(0x218, uint32_t(addr));
    put(0x21c, uint32_t(images.initrd.size()));
  }
  const auto map = e820_map(mem.total_size());
  put(0x1e8, uint8_t(map.size()));
  for (size_t i = 0; i < map.size(); ++i) put(0x2d0 + i * sizeof(BootE820Entry), BootE820Entry{map[i].addr, map[i].size, map[i].type});
  write_or_throw(mem, kZeroPageAddr, zero_page, "boot_params");
  if (!write_gdt(mem) || !write_identity_page_tables(mem, false)) throw runtime_error("guest memory too small for page tables");

  KernelBoot boot;
  boot.protocol = BootProtocol::kBzImage;
  boot.regs.rip = load_addr + 0x200;  // 64-bit entry: startup_64
  boot.regs.rsi = kZeroPageAddr;
  boot.regs.rflags = 0x2;
  return boot;
}

}  // namespace

std::vector<E820Entry> e820_map(uint64_t mem_size) {
  const auto layout = ram_layout(mem_size);
  std::vector<E820Entry> map{
      {0, kEbdaStart, 1},
      {kEbdaStart, 0xa0000 - kEbdaStart, 2},
      {kMpConfigTableAddr, kHighMemoryStart - kMpConfigTableAddr, 2},
      {kHighMemoryStart, layout.low_size - kHighMemoryStart, 1},
  };
  if (layout.high_size) map.push_back({kFourGiB, layout.high_size, 1});
  return map;
}

KernelBoot load_kernel(const vmm::GuestMemory& mem, const KernelImages& images, const std::string& path,
                       const std::string& cmdline, uint32_t vcpus) {
  const auto& k = images.kernel;
  KernelBoot boot;
  if (k.size() >= 4 && std::memcmp(k.data(), ELFMAG, SELFMAG) == 0) {
    boot = boot_pvh(mem, images, path, cmdline);
  } else if (k.size() > 0x206 && std::memcmp(k.data() + 0x202, "HdrS", 4) == 0) {
    boot = boot_bzimage(mem, images, path, cmdline);
  } else {
    throw runtime_error("kernel " + path + " is neither an ELF vmlinux nor a bzImage (" +
                        std::to_string(k.size()) + " bytes, no ELF magic and no \"HdrS\" at 0x202)");
  }
  if (!write_mptable(mem, vcpus)) throw runtime_error("the MP table for " + std::to_string(vcpus) + " vCPUs does not fit");
  return boot;
}

}  // namespace moat::arch::x86_64
