/** T0: virtio-blk requests against a real temporary file, on fake guest memory. */
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "fake_driver.h"
#include "virtio/block/virtio_block.h"

using namespace moat::vmm;
using namespace moat::vmm::test;

namespace {
struct TempDisk {
  explicit TempDisk(size_t bytes) {
    char name[] = "/tmp/moat-vmm-blk-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, static_cast<off_t>(bytes)) == 0);
    close(fd);
    path = name;
  }
  ~TempDisk() { unlink(path.c_str()); }
  std::string path;
};

struct Request {
  uint32_t type, reserved;
  uint64_t sector;
};

constexpr uint64_t kHdr = 0x10000, kData = 0x20000, kStatus = 0x30000;

DescriptorChain chain_for(const GuestMemory& mem, FakeQueue& driver, SplitQueue& q, std::vector<Buffer> buffers) {
  driver.add_chain(buffers);
  auto r = q.pop();
  REQUIRE(std::holds_alternative<DescriptorChain>(r));
  (void)mem;
  return std::get<DescriptorChain>(r);
}

struct Fixture {
  FakeRam ram;
  FakeQueue driver{*ram.memory, 0x1000, 64};
  SplitQueue q;
  Fixture() {
    std::string error;
    REQUIRE(q.init(*ram.memory, driver.config(), error));
  }
  std::optional<uint32_t> run(VirtioBlock& blk, uint32_t type, uint64_t sector, std::vector<Buffer> data) {
    ram.memory->write_obj(kHdr, Request{type, 0, sector});
    std::vector<Buffer> buffers{{kHdr, 16, false}};
    buffers.insert(buffers.end(), data.begin(), data.end());
    buffers.push_back({kStatus, 1, true});
    ram.bytes[kStatus] = 0xee;
    auto chain = chain_for(*ram.memory, driver, q, buffers);
    return blk.process_request(*ram.memory, chain);
  }
  uint8_t status() const { return ram.bytes[kStatus]; }
};
}  // namespace

TEST_CASE("virtio-blk: write, flush, read back, GET_ID, bounds") {
  TempDisk disk(64 * 1024);
  std::string error;
  auto blk = VirtioBlock::open({disk.path, false, "moat-disk-1"}, error);
  REQUIRE_MESSAGE(blk, error);
  CHECK(blk->capacity_sectors() == 128u);
  CHECK((blk->device_features() & blk::kFeatureRo) == 0);
  Fixture f;

  for (int i = 0; i < 1024; ++i) f.ram.bytes[kData + i] = static_cast<uint8_t>(i * 7);
  CHECK(f.run(*blk, blk::kTypeOut, 10, {{kData, 1024, false}}) == 1u);
  CHECK(f.status() == blk::kStatusOk);
  CHECK(f.run(*blk, blk::kTypeFlush, 0, {}) == 1u);
  CHECK(f.status() == blk::kStatusOk);

  std::memset(&f.ram.bytes[0x40000], 0, 1024);
  CHECK(f.run(*blk, blk::kTypeIn, 10, {{0x40000, 512, true}, {0x40200, 512, true}}) == 1025u);
  CHECK(f.status() == blk::kStatusOk);
  CHECK(std::memcmp(&f.ram.bytes[0x40000], &f.ram.bytes[kData], 1024) == 0);

  CHECK(f.run(*blk, blk::kTypeGetId, 0, {{0x50000, 20, true}}));
  CHECK(f.status() == blk::kStatusOk);
  CHECK(std::string(reinterpret_cast<char*>(&f.ram.bytes[0x50000])) == "moat-disk-1");

  // Past the end, partial sector, unknown type, missing header.
  CHECK(f.run(*blk, blk::kTypeIn, 127, {{0x40000, 1024, true}}));
  CHECK(f.status() == blk::kStatusIoErr);
  CHECK(f.run(*blk, blk::kTypeIn, ~0ull, {{0x40000, 512, true}}));
  CHECK(f.status() == blk::kStatusIoErr);
  CHECK(f.run(*blk, blk::kTypeOut, 0, {{kData, 100, false}}));
  CHECK(f.status() == blk::kStatusIoErr);
  CHECK(f.run(*blk, 77, 0, {}));
  CHECK(f.status() == blk::kStatusUnsupported);

  f.driver.add_chain({{kStatus, 1, true}});
  auto r = f.q.pop();
  REQUIRE(std::holds_alternative<DescriptorChain>(r));
  CHECK(blk->process_request(*f.ram.memory, std::get<DescriptorChain>(r)));
  CHECK(f.status() == blk::kStatusIoErr);

  f.driver.add_chain({{kHdr, 16, false}});  // no status byte at all
  r = f.q.pop();
  REQUIRE(std::holds_alternative<DescriptorChain>(r));
  CHECK_FALSE(blk->process_request(*f.ram.memory, std::get<DescriptorChain>(r)));
}

TEST_CASE("virtio-blk: read-only disk refuses writes, offers RO") {
  TempDisk disk(4096);
  std::string error;
  auto blk = VirtioBlock::open({disk.path, true, ""}, error);
  REQUIRE(blk);
  CHECK(((blk->device_features() & blk::kFeatureRo) != 0));
  Fixture f;
  CHECK(f.run(*blk, blk::kTypeOut, 0, {{kData, 512, false}}));
  CHECK(f.status() == blk::kStatusIoErr);
  CHECK(f.run(*blk, blk::kTypeIn, 0, {{kData, 512, true}}));
  CHECK(f.status() == blk::kStatusOk);
}

TEST_CASE("virtio-blk: open errors name the path") {
  std::string error;
  CHECK_FALSE(VirtioBlock::open({"/nonexistent/disk.img", false, ""}, error));
  CHECK(error.find("/nonexistent/disk.img") != std::string::npos);
  TempDisk odd(1000);
  CHECK_FALSE(VirtioBlock::open({odd.path, false, ""}, error));
  CHECK(error.find("multiple of 512") != std::string::npos);
}
