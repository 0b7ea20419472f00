/** T0: GuestMemory bounds checking (the single place guest addresses are validated). */
#include <doctest/doctest.h>

#include <array>
#include <limits>

#include "memory/guest_memory.h"

using namespace moat::vmm;

TEST_CASE("GuestMemory: slices inside a region, refuses anything crossing or wrapping") {
  std::vector<uint8_t> buffer(8192);
  auto mem = GuestMemory::fake(0x10000, buffer);
  CHECK(mem->slice(0x10000, 8192));
  CHECK(mem->slice(0x10000 + 8192, 0));  // empty at the end is fine
  CHECK_FALSE(mem->slice(0x10000 + 8192, 1));
  CHECK_FALSE(mem->slice(0x10000 + 8191, 2));
  CHECK_FALSE(mem->slice(0xffff, 1));
  CHECK_FALSE(mem->slice(0x10010, std::numeric_limits<uint64_t>::max()));
  CHECK_FALSE(mem->slice(std::numeric_limits<uint64_t>::max(), 2));
  CHECK(mem->slice(0x10004, 4)->data() == buffer.data() + 4);
}

TEST_CASE("GuestMemory: read/write objects, failures leave memory untouched") {
  std::vector<uint8_t> buffer(4096);
  auto mem = GuestMemory::fake(0, buffer);
  CHECK(mem->write_obj<uint32_t>(100, 0xdeadbeef));
  CHECK(mem->read_obj<uint32_t>(100) == 0xdeadbeefu);
  CHECK_FALSE(mem->write_obj<uint64_t>(4092, 0x1122334455667788ull));
  CHECK(buffer[4092] == 0);
  CHECK_FALSE(mem->read_obj<uint64_t>(4090));
}

TEST_CASE("GuestMemory::create maps regions and rejects bad layouts with a message") {
  std::string error;
  std::array<RegionSpec, 2> ok{RegionSpec{0, 1 << 20}, RegionSpec{0x100000000ull, 1 << 20}};
  auto mem = GuestMemory::create(ok, error);
  REQUIRE(mem);
  CHECK(mem->regions().size() == 2);
  CHECK(mem->total_size() == 2u << 20);
  CHECK(mem->write_obj<uint64_t>(0x100000000ull + 8, 42));
  CHECK(mem->read_obj<uint64_t>(0x100000008ull) == 42u);
  CHECK_FALSE(mem->slice((1 << 20) - 4, 8));  // gap between regions

  std::array<RegionSpec, 2> overlap{RegionSpec{0, 2 << 20}, RegionSpec{1 << 20, 1 << 20}};
  CHECK_FALSE(GuestMemory::create(overlap, error));
  CHECK(error.find("overlaps") != std::string::npos);
  std::array<RegionSpec, 1> unaligned{RegionSpec{0, 1000}};
  CHECK_FALSE(GuestMemory::create(unaligned, error));
  CHECK(error.find("4 KiB") != std::string::npos);
  std::array<RegionSpec, 1> wrap{RegionSpec{0xfffffffffffff000ull, 0x2000}};
  CHECK_FALSE(GuestMemory::create(wrap, error));
  CHECK(error.find("wraps") != std::string::npos);
}

TEST_CASE("GuestMemory::resident_bytes counts only the pages the guest touched") {
  std::string error;
  std::array<RegionSpec, 2> layout{RegionSpec{0, 8 << 20}, RegionSpec{0x100000000ull, 4 << 20}};
  auto mem = GuestMemory::create(layout, error);
  REQUIRE(mem);
  CHECK(mem->resident_bytes() == 0);  // MAP_NORESERVE anonymous memory: nothing until touched
  for (uint64_t gpa = 0; gpa < (3u << 20); gpa += 4096) REQUIRE(mem->write_obj<uint8_t>(gpa, 1));
  REQUIRE(mem->write_obj<uint8_t>(0x100000000ull + 12345, 1));
  // Transparent huge pages may back a touched range with 2 MiB pages: at least what was touched,
  // at most that rounded up to huge pages, never the untouched remainder.
  const uint64_t resident = mem->resident_bytes();
  CHECK(resident >= (3u << 20) + 4096);
  CHECK(resident <= (4u << 20) + (2u << 20));
}
