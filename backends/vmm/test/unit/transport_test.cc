/** T0: virtio-mmio register protocol driven like Linux's virtio_mmio driver, over virtio-rng. */
#include <doctest/doctest.h>

#include <cstring>

#include "fake_driver.h"
#include "virtio/mmio_transport.h"
#include "virtio/rng/virtio_rng.h"

using namespace moat::vmm;
using namespace moat::vmm::test;

namespace {
struct CountingIrq : IrqLine {
  int triggers = 0;
  void trigger() override { ++triggers; }
  void set_level(bool) override {}
};
uint32_t rd(VirtioMmioTransport& t, uint64_t off) {
  uint32_t v = 0;
  t.read(off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 4));
  return v;
}
void wr(VirtioMmioTransport& t, uint64_t off, uint32_t v) {
  t.write(off, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&v), 4));
}
void setup_queue(VirtioMmioTransport& t, uint32_t index, const QueueConfig& c) {
  wr(t, mmio::kQueueSel, index);
  wr(t, mmio::kQueueNum, c.size);
  wr(t, mmio::kQueueDescLow, static_cast<uint32_t>(c.desc_table));
  wr(t, mmio::kQueueDescHigh, static_cast<uint32_t>(c.desc_table >> 32));
  wr(t, mmio::kQueueDriverLow, static_cast<uint32_t>(c.avail_ring));
  wr(t, mmio::kQueueDriverHigh, 0);
  wr(t, mmio::kQueueDeviceLow, static_cast<uint32_t>(c.used_ring));
  wr(t, mmio::kQueueDeviceHigh, 0);
  wr(t, mmio::kQueueReady, 1);
}
}  // namespace

TEST_CASE("virtio-mmio: identification, negotiation, activation, notify, interrupt, reset") {
  FakeRam ram;
  std::string error;
  auto loop = EventLoop::create(error);
  REQUIRE(loop);
  auto irq = std::make_shared<CountingIrq>();
  VirtioMmioTransport t(std::make_shared<VirtioRng>(), *ram.memory, irq, *loop);

  CHECK(rd(t, mmio::kMagicValue) == 0x74726976u);
  CHECK(rd(t, mmio::kVersion) == 2u);
  CHECK(rd(t, mmio::kDeviceId) == 4u);
  wr(t, mmio::kStatus, kStatusAcknowledge | kStatusDriver);
  wr(t, mmio::kDeviceFeaturesSel, 1);
  CHECK((rd(t, mmio::kDeviceFeatures) & 1) == 1);  // VERSION_1 (bit 32)
  wr(t, mmio::kDriverFeaturesSel, 1);
  wr(t, mmio::kDriverFeatures, 1);
  wr(t, mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  CHECK((rd(t, mmio::kStatus) & kStatusFeaturesOk) != 0);
  wr(t, mmio::kQueueSel, 0);
  CHECK(rd(t, mmio::kQueueNumMax) == 256u);
  FakeQueue driver(*ram.memory, 0x1000, 16);
  setup_queue(t, 0, driver.config());
  wr(t, mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  CHECK(rd(t, mmio::kStatus) == (kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk));

  driver.add_chain({{0x10000, 64, true}});
  wr(t, mmio::kQueueNotify, 0);
  loop->run_once(0);
  auto used = driver.pop_used();
  REQUIRE(used);
  CHECK(used->second == 64u);
  CHECK(ram.memory->read_obj<uint16_t>(driver.config().used_ring) == 0u);  // kicks re-enabled after draining
  bool nonzero = false;
  for (int i = 0; i < 64; ++i) nonzero |= ram.bytes[0x10000 + i] != 0;
  CHECK(nonzero);
  CHECK(irq->triggers == 1);
  CHECK(rd(t, mmio::kInterruptStatus) == 1u);
  wr(t, mmio::kInterruptAck, 1);
  CHECK(rd(t, mmio::kInterruptStatus) == 0u);

  wr(t, mmio::kStatus, 0);
  CHECK(rd(t, mmio::kStatus) == 0u);
  wr(t, mmio::kQueueSel, 0);
  CHECK(rd(t, mmio::kQueueReady) == 0u);
}

TEST_CASE("virtio-mmio: refuses a driver without VERSION_1 and broken queues set NEEDS_RESET") {
  FakeRam ram;
  std::string error;
  auto loop = EventLoop::create(error);
  auto irq = std::make_shared<CountingIrq>();
  VirtioMmioTransport t(std::make_shared<VirtioRng>(), *ram.memory, irq, *loop);
  wr(t, mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  CHECK((rd(t, mmio::kStatus) & kStatusFeaturesOk) == 0);  // legacy driver refused

  wr(t, mmio::kStatus, 0);
  wr(t, mmio::kStatus, kStatusAcknowledge | kStatusDriver);
  wr(t, mmio::kDriverFeaturesSel, 1);
  wr(t, mmio::kDriverFeatures, 1);
  wr(t, mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  // Ring outside guest memory: activation fails -> NEEDS_RESET + config interrupt.
  setup_queue(t, 0, QueueConfig{16, true, 0x7fff0000, 0x7fff1000, 0x7fff2000});
  wr(t, mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  CHECK((rd(t, mmio::kStatus) & kStatusNeedsReset) != 0);
  CHECK((rd(t, mmio::kInterruptStatus) & 2u) != 0);
  CHECK(t.broken_reason().find("outside guest memory") != std::string::npos);
  wr(t, mmio::kStatus, 0);
  CHECK(rd(t, mmio::kStatus) == 0u);
  CHECK(t.broken_reason().empty());
}

TEST_CASE("virtio_mmio_cmdline renders the kernel parameter") {
  CHECK(virtio_mmio_cmdline(0xd0000000, 0x1000, 5) == "virtio_mmio.device=4K@0xd0000000:5");
  CHECK(virtio_mmio_cmdline(0xd0001000, 0x200, 6) == "virtio_mmio.device=512@0xd0001000:6");
}
