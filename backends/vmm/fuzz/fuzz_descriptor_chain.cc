/**
 * libFuzzer target: descriptor-chain parsing. Guest RAM (rings, descriptors, buffers) comes from
 * the input; every chain SplitQueue accepts is walked with ChainReader/ChainWriter and returned.
 */
#include <variant>

#include "fuzz_memory.h"
#include "virtio/queue.h"

using namespace moat::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzRam ram(data, size);
  SplitQueue queue;
  std::string error;
  if (!queue.init(*ram.memory, fuzz::queue_at(0), error)) return 0;
  for (int i = 0; i < 32; ++i) {
    auto next = queue.pop();
    if (!std::holds_alternative<DescriptorChain>(next)) break;
    const auto& chain = std::get<DescriptorChain>(next);
    ChainReader reader(*ram.memory, chain);
    uint8_t buf[97];
    while (reader.read(buf)) {
    }
    reader.skip(reader.remaining());
    ChainWriter writer(*ram.memory, chain);
    while (writer.write(buf)) {
    }
    writer.advance(writer.remaining());
    queue.add_used(chain.head, static_cast<uint32_t>(writer.written()));
  }
  return 0;
}
