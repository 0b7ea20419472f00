/**
 * GuestMemory implementation: anonymous mappings, their resident size (mincore), and the single
 * bounds-checking routine (`slice`) every other accessor is built on.
 */
#include "memory/guest_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>

namespace moat::vmm {
namespace {
constexpr uint64_t kPageSize = 4096;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}
}  // namespace

GuestMemory::GuestMemory(std::vector<MemoryRegion> regions, bool owns_mappings)
    : regions_(std::move(regions)), owns_mappings_(owns_mappings) {}

GuestMemory::~GuestMemory() {
  if (!owns_mappings_) return;
  for (const auto& r : regions_) munmap(r.host, r.size);
}

std::unique_ptr<GuestMemory> GuestMemory::create(std::span<const RegionSpec> specs, std::string& error) {
  if (specs.empty()) {
    error = "guest memory: no regions given (need at least one RAM region)";
    return nullptr;
  }
  std::vector<RegionSpec> sorted(specs.begin(), specs.end());
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.gpa < b.gpa; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& s = sorted[i];
    if (s.size == 0 || s.size % kPageSize != 0 || s.gpa % kPageSize != 0) {
      error = "guest memory: region at " + hex(s.gpa) + " size " + hex(s.size) +
              " must be non-empty and 4 KiB-aligned";
      return nullptr;
    }
    if (s.gpa + s.size < s.gpa) {
      error = "guest memory: region at " + hex(s.gpa) + " size " + hex(s.size) + " wraps the address space";
      return nullptr;
    }
    if (i > 0 && sorted[i - 1].gpa + sorted[i - 1].size > s.gpa) {
      error = "guest memory: region at " + hex(s.gpa) + " overlaps the region at " + hex(sorted[i - 1].gpa);
      return nullptr;
    }
  }
  std::vector<MemoryRegion> regions;
  for (const auto& s : sorted) {
    void* p = mmap(nullptr, s.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      for (const auto& r : regions) munmap(r.host, r.size);
      error = "guest memory: cannot map " + std::to_string(s.size >> 20) + " MiB at " + hex(s.gpa) + ": " +
              std::strerror(e) + " (lower the machine's memory size or raise the host's limits)";
      return nullptr;
    }
    regions.push_back({s.gpa, static_cast<uint8_t*>(p), s.size});
  }
  return std::unique_ptr<GuestMemory>(new GuestMemory(std::move(regions), true));
}

std::unique_ptr<GuestMemory> GuestMemory::fake(uint64_t gpa, std::span<uint8_t> buffer) {
  return std::unique_ptr<GuestMemory>(
      new GuestMemory({MemoryRegion{gpa, buffer.data(), buffer.size()}}, false));
}

uint64_t GuestMemory::total_size() const {
  uint64_t total = 0;
  for (const auto& r : regions_) total += r.size;
  return total;
}

uint64_t GuestMemory::resident_bytes() const {
  constexpr uint64_t kChunk = uint64_t{1} << 30;  // bounds the vector to 256 Ki entries
  std::vector<unsigned char> pages;
  uint64_t resident = 0;
  for (const auto& r : regions_) {
    // mincore wants a page-aligned start: fake() regions over caller buffers may not be.
    auto start = reinterpret_cast<uintptr_t>(r.host) & ~(kPageSize - 1);
    const auto end = reinterpret_cast<uintptr_t>(r.host) + r.size;
    for (; start < end; start += kChunk) {
      const uint64_t len = std::min<uint64_t>(kChunk, end - start);
      pages.resize((len + kPageSize - 1) / kPageSize);
      if (mincore(reinterpret_cast<void*>(start), len, pages.data()) != 0) continue;
      for (unsigned char page : pages) resident += (page & 1) ? kPageSize : 0;
    }
  }
  return resident;
}

std::optional<std::span<uint8_t>> GuestMemory::slice(uint64_t gpa, uint64_t len) const {
  for (const auto& r : regions_) {
    if (gpa < r.gpa) break;  // sorted: no later region can contain gpa
    uint64_t offset = gpa - r.gpa;
    if (offset > r.size) continue;
    // offset <= size here, so size - offset cannot underflow; this is the overflow-safe test.
    if (len > r.size - offset) return std::nullopt;
    return std::span<uint8_t>(r.host + offset, static_cast<size_t>(len));
  }
  return std::nullopt;
}

bool GuestMemory::read(uint64_t gpa, std::span<uint8_t> out) const {
  auto s = slice(gpa, out.size());
  if (!s) return false;
  if (!out.empty()) std::memcpy(out.data(), s->data(), out.size());
  return true;
}

bool GuestMemory::write(uint64_t gpa, std::span<const uint8_t> in) const {
  auto s = slice(gpa, in.size());
  if (!s) return false;
  if (!in.empty()) std::memcpy(s->data(), in.data(), in.size());
  return true;
}

}  // namespace moat::vmm
