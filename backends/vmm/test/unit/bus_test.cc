/** T0: Bus dispatch, overlap checks and partial-range refusal. */
#include <doctest/doctest.h>

#include <cstring>

#include "bus/bus.h"

using namespace moat::vmm;

namespace {
struct Recorder : BusDevice {
  uint64_t last_offset = ~0ull;
  uint32_t value = 0;
  void read(uint64_t offset, std::span<uint8_t> data) override {
    last_offset = offset;
    std::memcpy(data.data(), &value, std::min<size_t>(4, data.size()));
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    last_offset = offset;
    std::memcpy(&value, data.data(), std::min<size_t>(4, data.size()));
  }
};
}  // namespace

TEST_CASE("Bus: dispatches by range with device-relative offsets") {
  Bus bus;
  std::string error;
  auto a = std::make_shared<Recorder>(), b = std::make_shared<Recorder>();
  REQUIRE(bus.insert(0x1000, 0x100, a, error));
  REQUIRE(bus.insert(0x2000, 0x100, b, error));
  uint32_t v = 7;
  CHECK(bus.write(0x2010, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&v), 4)));
  CHECK(b->last_offset == 0x10);
  CHECK(b->value == 7);
  uint32_t out = 0;
  CHECK(bus.read(0x2010, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), 4)));
  CHECK(out == 7);
  CHECK_FALSE(bus.read(0x1500, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), 4)));
  CHECK_FALSE(bus.read(0x10fe, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), 4)));  // runs past the end
  CHECK(bus.read(0x10fc, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), 4)));
}

TEST_CASE("Bus: refuses overlaps, empty and wrapping ranges") {
  Bus bus;
  std::string error;
  auto d = std::make_shared<Recorder>();
  REQUIRE(bus.insert(0x1000, 0x100, d, error));
  CHECK_FALSE(bus.insert(0x10ff, 1, d, error));
  CHECK(error.find("overlaps") != std::string::npos);
  CHECK_FALSE(bus.insert(0xf00, 0x101, d, error));
  CHECK(bus.insert(0xf00, 0x100, d, error));
  CHECK_FALSE(bus.insert(0x5000, 0, d, error));
  CHECK_FALSE(bus.insert(~0ull - 1, 4, d, error));
  CHECK(bus.remove(0xf00));
  CHECK_FALSE(bus.remove(0xf00));
}
