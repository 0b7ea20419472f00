/** T0: split-virtqueue parsing and validation against a fake driver, including garbage chains. */
#include <doctest/doctest.h>

#include "fake_driver.h"
#include "virtio/queue.h"

using namespace moat::vmm;
using namespace moat::vmm::test;

namespace {
std::string error_of(SplitQueue::PopResult r) {
  auto* e = std::get_if<QueueError>(&r);
  return e ? e->message : std::string();
}
}  // namespace

TEST_CASE("SplitQueue: pops a chain, reader/writer cross buffers, used ring is published") {
  FakeRam ram;
  FakeQueue driver(*ram.memory, 0x1000, 8);
  SplitQueue q;
  std::string error;
  REQUIRE(q.init(*ram.memory, driver.config(), error));
  CHECK(std::holds_alternative<std::monostate>(q.pop()));
  ram.memory->write(0x10000, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("hello world"), 11));
  uint16_t head = driver.add_chain({{0x10000, 5, false}, {0x10005, 6, false}, {0x20000, 3, true}, {0x30000, 4, true}});
  CHECK(q.has_available());
  auto r = q.pop();
  REQUIRE(std::holds_alternative<DescriptorChain>(r));
  auto& chain = std::get<DescriptorChain>(r);
  CHECK(chain.head == head);
  CHECK(chain.readable_bytes == 11);
  CHECK(chain.writable_bytes == 7);
  ChainReader reader(*ram.memory, chain);
  uint8_t text[11];
  CHECK(reader.read(text));
  CHECK(std::string(reinterpret_cast<char*>(text), 11) == "hello world");
  CHECK_FALSE(reader.read(std::span<uint8_t>(text, 1)));
  ChainWriter writer(*ram.memory, chain);
  const uint8_t reply[] = {1, 2, 3, 4, 5};
  CHECK(writer.write(reply));
  CHECK_FALSE(writer.write(reply));  // only 2 bytes left
  CHECK(writer.written() == 5);
  CHECK(ram.bytes[0x20002] == 3);
  CHECK(ram.bytes[0x30001] == 5);
  CHECK(q.add_used(chain.head, 5));
  auto used = driver.pop_used();
  REQUIRE(used);
  CHECK(used->first == head);
  CHECK(used->second == 5);
  CHECK(q.needs_interrupt());
  q.set_notification(false);
  CHECK(ram.memory->read_obj<uint16_t>(driver.config().used_ring) == 1u);  // VRING_USED_F_NO_NOTIFY
  q.set_notification(true);
  CHECK(ram.memory->read_obj<uint16_t>(driver.config().used_ring) == 0u);
}

TEST_CASE("SplitQueue: undo_pop returns the chain") {
  FakeRam ram;
  FakeQueue driver(*ram.memory, 0x1000, 4);
  SplitQueue q;
  std::string error;
  REQUIRE(q.init(*ram.memory, driver.config(), error));
  driver.add_chain({{0x10000, 16, true}});
  REQUIRE(std::holds_alternative<DescriptorChain>(q.pop()));
  q.undo_pop();
  CHECK(std::holds_alternative<DescriptorChain>(q.pop()));
  CHECK(std::holds_alternative<std::monostate>(q.pop()));
}

TEST_CASE("SplitQueue: garbage is refused with a QueueError, never dereferenced") {
  FakeRam ram;
  const uint64_t ram_size = ram.bytes.size();
  FakeQueue driver(*ram.memory, 0x1000, 8);
  SplitQueue q;
  std::string error;
  REQUIRE(q.init(*ram.memory, driver.config(), error));

  SUBCASE("loop in the chain") {
    driver.write_desc(0, 0x10000, 8, 1, 1);
    driver.write_desc(1, 0x10000, 8, 1, 0);
    driver.publish(0);
    CHECK(error_of(q.pop()).find("loops") != std::string::npos);
  }
  SUBCASE("self loop") {
    driver.write_desc(3, 0x10000, 8, 1, 3);
    driver.publish(3);
    CHECK(error_of(q.pop()).find("loops") != std::string::npos);
  }
  SUBCASE("buffer outside guest memory") {
    driver.write_desc(0, ram_size - 4, 8, 0, 0);
    driver.publish(0);
    CHECK(error_of(q.pop()).find("outside guest memory") != std::string::npos);
  }
  SUBCASE("address + length wraps") {
    driver.write_desc(0, ~0ull - 2, 0xffffffff, 0, 0);
    driver.publish(0);
    CHECK_FALSE(error_of(q.pop()).empty());
  }
  SUBCASE("oversized total length") {
    for (uint16_t i = 0; i < 8; ++i) driver.write_desc(i, 0, 0xffffffff, i < 7 ? 1 : 0, static_cast<uint16_t>(i + 1));
    driver.publish(0);
    CHECK_FALSE(error_of(q.pop()).empty());
  }
  SUBCASE("head index out of range") {
    driver.publish(200);
    CHECK(error_of(q.pop()).find("head") != std::string::npos);
  }
  SUBCASE("next index out of range") {
    driver.write_desc(0, 0x10000, 8, 1, 9);
    driver.publish(0);
    CHECK(error_of(q.pop()).find("next") != std::string::npos);
  }
  SUBCASE("indirect descriptor (not negotiated)") {
    driver.write_desc(0, 0x10000, 32, 4, 0);
    driver.publish(0);
    CHECK(error_of(q.pop()).find("INDIRECT") != std::string::npos);
  }
  SUBCASE("readable after writable") {
    driver.write_desc(0, 0x10000, 8, 1 | 2, 1);
    driver.write_desc(1, 0x10000, 8, 0, 0);
    driver.publish(0);
    CHECK(error_of(q.pop()).find("readable after") != std::string::npos);
  }
  SUBCASE("available index runs too far ahead") {
    driver.set_avail_idx(100);
    CHECK(error_of(q.pop()).find("ahead") != std::string::npos);
  }
}

TEST_CASE("SplitQueue::init refuses bad ring placement and sizes") {
  FakeRam ram;
  SplitQueue q;
  std::string error;
  QueueConfig c{8, true, 0x1000, 0x2000, 0x3000};
  CHECK(q.init(*ram.memory, c, error));
  c.size = 6;
  CHECK_FALSE(q.init(*ram.memory, c, error));
  CHECK(error.find("power of two") != std::string::npos);
  c = {8, true, 0x1001, 0x2000, 0x3000};
  CHECK_FALSE(q.init(*ram.memory, c, error));
  CHECK(error.find("aligned") != std::string::npos);
  c = {8, true, 0x1000, 0x2000, ram.bytes.size() - 8};
  CHECK_FALSE(q.init(*ram.memory, c, error));
  CHECK(error.find("outside guest memory") != std::string::npos);
}
