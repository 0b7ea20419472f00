/** T0: the 8250 UART: output to the sink, divisor latch, input injection and interrupts. */
#include <doctest/doctest.h>

#include <string>

#include "serial/serial_8250.h"

using namespace moat::vmm;

namespace {
struct LevelIrq : IrqLine {
  bool level = false;
  int triggers = 0;
  void trigger() override { ++triggers; }
  void set_level(bool asserted) override { level = asserted; }
};
uint8_t rd(Serial8250& s, uint64_t off) {
  uint8_t v = 0xff;
  s.read(off, std::span<uint8_t>(&v, 1));
  return v;
}
void wr(Serial8250& s, uint64_t off, uint8_t v) { s.write(off, std::span<const uint8_t>(&v, 1)); }
}  // namespace

TEST_CASE("Serial8250: THR bytes reach the sink and DLAB redirects to the divisor") {
  std::string out;
  Serial8250 uart(nullptr, [&](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); });
  for (char c : std::string("hi\n")) wr(uart, 0, static_cast<uint8_t>(c));
  CHECK(out == "hi\n");
  CHECK((rd(uart, 5) & 0x60) == 0x60);  // THR empty + idle
  wr(uart, 3, 0x80);                     // DLAB
  wr(uart, 0, 0x01);
  wr(uart, 1, 0x00);
  CHECK(rd(uart, 0) == 0x01);
  wr(uart, 3, 0x03);
  CHECK(out == "hi\n");  // divisor writes are not output
  wr(uart, 7, 0x5a);
  CHECK(rd(uart, 7) == 0x5a);
}

TEST_CASE("Serial8250: injected input sets DR and raises the RX interrupt when enabled") {
  auto irq = std::make_shared<LevelIrq>();
  Serial8250 uart(irq, nullptr);
  CHECK((rd(uart, 5) & 1) == 0);
  const uint8_t in[] = {'a', 'b'};
  CHECK(uart.inject(in) == 2);
  CHECK(!irq->level);  // IER off
  wr(uart, 1, 0x01);
  CHECK(irq->level);
  CHECK((rd(uart, 2) & 0x0f) == 0x04);
  CHECK(rd(uart, 0) == 'a');
  CHECK(rd(uart, 0) == 'b');
  CHECK((rd(uart, 5) & 1) == 0);
  CHECK(!irq->level);
}

TEST_CASE("Serial8250: THR-empty interrupt is cleared by reading IIR and loopback echoes") {
  auto irq = std::make_shared<LevelIrq>();
  std::string out;
  Serial8250 uart(irq, [&](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); });
  wr(uart, 1, 0x02);
  CHECK(irq->level);
  CHECK((rd(uart, 2) & 0x0f) == 0x02);
  CHECK(!irq->level);
  wr(uart, 1, 0x00);
  wr(uart, 4, 0x10);  // loopback
  wr(uart, 0, 'x');
  CHECK(out.empty());
  CHECK(rd(uart, 0) == 'x');
}
