/**
 * libFuzzer target: virtio-blk requests (headers, sectors, data layout, status placement) parsed
 * from input-controlled guest RAM against a 64 KiB temporary disk image.
 */
#include <unistd.h>

#include <cstdlib>
#include <variant>

#include "fuzz_memory.h"
#include "virtio/block/virtio_block.h"

using namespace moat::vmm;

namespace {
std::shared_ptr<VirtioBlock> disk(bool read_only) {
  static std::string path = [] {
    char name[] = "/tmp/moat-fuzz-blk-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0 || ftruncate(fd, 64 * 1024) != 0) abort();
    close(fd);
    return std::string(name);
  }();
  std::string error;
  auto blk = VirtioBlock::open({path, read_only, "fuzz"}, error);
  if (!blk) abort();
  return blk;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto rw = disk(false);
  static auto ro = disk(true);
  fuzz::FuzzRam ram(data, size);
  SplitQueue queue;
  std::string error;
  if (!queue.init(*ram.memory, fuzz::queue_at(0), error)) return 0;
  for (int i = 0; i < 16; ++i) {
    auto next = queue.pop();
    if (!std::holds_alternative<DescriptorChain>(next)) break;
    const auto& chain = std::get<DescriptorChain>(next);
    auto used = (chain.head & 1 ? ro : rw)->process_request(*ram.memory, chain);
    if (used) queue.add_used(chain.head, *used);
  }
  return 0;
}
