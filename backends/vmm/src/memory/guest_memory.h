/**
 * GuestMemory: the guest's physical RAM as host mappings, and the ONE place where guest-controlled
 * addresses and lengths are checked.
 *
 * Devices never dereference a guest-supplied address any other way: they ask for a bounded
 * `slice()` (which must lie entirely inside one region, overflow-safe) or copy through
 * `read()`/`write()`/`read_obj()`/`write_obj()`, all of which fail cleanly (false / nullopt) on any
 * out-of-range or wrapping access. The hypervisor layer maps `regions()` into the VM.
 *
 * Thread-safety: the region table is immutable after construction; concurrent reads/writes of guest
 * bytes from vCPU and device threads are the guest's business (as on real hardware). Ring index
 * publication uses explicit fences in the virtqueue code.
 */
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace moat::vmm {

/** One contiguous range of guest-physical memory and where it lives in this process. */
struct MemoryRegion {
  uint64_t gpa = 0;        ///< guest-physical start address
  uint8_t* host = nullptr; ///< host virtual address of the first byte
  uint64_t size = 0;       ///< bytes
};

/** What the caller asks for: a guest-physical range to back with anonymous memory. */
struct RegionSpec {
  uint64_t gpa = 0;
  uint64_t size = 0;
};

class GuestMemory {
 public:
  /**
   * Maps each region with anonymous, private, MAP_NORESERVE memory. Regions must be non-empty,
   * page-aligned (4 KiB) and must not overlap or wrap the 64-bit space. On failure returns nullptr
   * and fills `error` with a message naming the bad value.
   */
  static std::unique_ptr<GuestMemory> create(std::span<const RegionSpec> regions, std::string& error);

  /** Unit-test/fuzzer memory: one region at `gpa` over a caller-owned buffer (not unmapped). */
  static std::unique_ptr<GuestMemory> fake(uint64_t gpa, std::span<uint8_t> buffer);

  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  /** The mapped regions, sorted by gpa, for the hypervisor to install as guest RAM. */
  const std::vector<MemoryRegion>& regions() const { return regions_; }

  /** Total bytes of guest RAM. */
  uint64_t total_size() const;

  /**
   * Bytes of guest RAM resident on the host now (mincore over every region): what the guest has
   * touched, the number a VMM's own overhead is measured against. Costs one page-table walk per
   * 4 KiB page (about 1 ms per GiB), so callers keep it off latency-critical threads.
   */
  uint64_t resident_bytes() const;

  /**
   * A host view of [gpa, gpa+len) if it lies entirely within one region; nullopt otherwise
   * (including len overflowing gpa). len == 0 yields an empty span when gpa is inside a region or
   * exactly at a region's end.
   */
  std::optional<std::span<uint8_t>> slice(uint64_t gpa, uint64_t len) const;

  /** Copies guest bytes at gpa into `out`. False (and `out` untouched) if the range is invalid. */
  bool read(uint64_t gpa, std::span<uint8_t> out) const;

  /** Copies `in` into guest memory at gpa. False (and guest untouched) if the range is invalid. */
  bool write(uint64_t gpa, std::span<const uint8_t> in) const;

  /** Reads a trivially copyable object (little-endian host layout) from guest memory. */
  template <class T>
  std::optional<T> read_obj(uint64_t gpa) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    if (!read(gpa, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(T)))) return std::nullopt;
    return value;
  }

  /** Writes a trivially copyable object to guest memory. False if the range is invalid. */
  template <class T>
  bool write_obj(uint64_t gpa, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(gpa, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }

 private:
  GuestMemory(std::vector<MemoryRegion> regions, bool owns_mappings);
  std::vector<MemoryRegion> regions_;
  bool owns_mappings_;
};

}  // namespace moat::vmm
