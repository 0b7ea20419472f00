/**
 * Serial8250: a 16550A-compatible UART as a port-I/O BusDevice (COM1: base 0x3f8, IRQ 4, 8 ports).
 *
 * Guest output (THR writes) goes to a sink callback (the machine writes it to the console log file
 * and/or forwards it to JS); host input is injected with `inject()` and raises the receive interrupt
 * when the guest enabled it. Implements the registers Linux's 8250 driver and simple polling
 * programs use: RBR/THR, IER, IIR/FCR, LCR (incl. DLAB divisor latch), MCR (loopback), LSR, MSR, SCR.
 * Thread-safe (one mutex); the sink is called with the lock released.
 */
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "bus/device.h"
#include "bus/irq.h"

namespace moat::vmm {

class Serial8250 : public BusDevice {
 public:
  static constexpr uint64_t kCom1Base = 0x3f8;
  static constexpr uint32_t kCom1Irq = 4;
  static constexpr uint64_t kPortCount = 8;

  using Sink = std::function<void(std::span<const uint8_t> bytes)>;

  /** `irq` may be null (polling-only guests); `sink` receives every byte the guest transmits. */
  Serial8250(std::shared_ptr<IrqLine> irq, Sink sink);

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  /** Queues host bytes for the guest to read (bounded: excess beyond 64 KiB is dropped, returns count taken). */
  size_t inject(std::span<const uint8_t> bytes);

 private:
  uint8_t read_register(uint64_t offset);
  /** Returns the byte to emit (if any) so the caller can call the sink without the lock. */
  bool write_register(uint64_t offset, uint8_t value, uint8_t& emitted);
  uint8_t interrupt_identification() const;
  void update_interrupt_locked(bool& raise);

  std::shared_ptr<IrqLine> irq_;
  Sink sink_;
  std::mutex mutex_;
  std::deque<uint8_t> rx_;
  uint8_t ier_ = 0, lcr_ = 0x03, mcr_ = 0x08, scr_ = 0, dll_ = 0x0c, dlh_ = 0, msr_ = 0xb0;
  bool thr_empty_interrupt_pending_ = false;
  bool irq_asserted_ = false;
};

}  // namespace moat::vmm
