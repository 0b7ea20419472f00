/**
 * Serial8250 implementation: register file of a 16550A with an unbounded-free RX FIFO (capped at
 * 64 KiB), THR-empty and RX-available interrupts on a level IrqLine.
 */
#include "serial/serial_8250.h"

#include <algorithm>

namespace moat::vmm {
namespace {
// Register offsets.
constexpr uint64_t kData = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kIerRxAvailable = 0x01, kIerThrEmpty = 0x02;
constexpr uint8_t kIirNoInterrupt = 0x01, kIirThrEmpty = 0x02, kIirRxAvailable = 0x04, kIirFifoEnabled = 0xc0;
constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20, kLsrIdle = 0x40;
constexpr uint8_t kMcrLoop = 0x10;
constexpr size_t kMaxRxBytes = 64 * 1024;
}  // namespace

Serial8250::Serial8250(std::shared_ptr<IrqLine> irq, Sink sink) : irq_(std::move(irq)), sink_(std::move(sink)) {}

uint8_t Serial8250::interrupt_identification() const {
  if ((ier_ & kIerRxAvailable) && !rx_.empty()) return kIirRxAvailable | kIirFifoEnabled;
  if ((ier_ & kIerThrEmpty) && thr_empty_interrupt_pending_) return kIirThrEmpty | kIirFifoEnabled;
  return kIirNoInterrupt | kIirFifoEnabled;
}

void Serial8250::update_interrupt_locked(bool& level) {
  level = (interrupt_identification() & kIirNoInterrupt) == 0;
}

uint8_t Serial8250::read_register(uint64_t offset) {
  switch (offset) {
    case kData:
      if (lcr_ & kLcrDlab) return dll_;
      if (rx_.empty()) return 0;
      {
        uint8_t b = rx_.front();
        rx_.pop_front();
        return b;
      }
    case kIer:
      return (lcr_ & kLcrDlab) ? dlh_ : ier_;
    case kIirFcr: {
      uint8_t iir = interrupt_identification();
      // Reading IIR while it reports THR-empty clears that condition (16550 semantics).
      if ((iir & 0x0f) == kIirThrEmpty) thr_empty_interrupt_pending_ = false;
      return iir;
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr:
      return static_cast<uint8_t>(kLsrThrEmpty | kLsrIdle | (rx_.empty() ? 0 : kLsrDataReady));
    case kMsr:
      if (!(mcr_ & kMcrLoop)) return msr_;
      // Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
      return static_cast<uint8_t>(((mcr_ & 0x02) << 3) | ((mcr_ & 0x01) << 5) | ((mcr_ & 0x0c) << 4));
    case kScr:
      return scr_;
    default:
      return 0;
  }
}

bool Serial8250::write_register(uint64_t offset, uint8_t value, uint8_t& emitted) {
  switch (offset) {
    case kData:
      if (lcr_ & kLcrDlab) {
        dll_ = value;
        return false;
      }
      thr_empty_interrupt_pending_ = true;  // transmission is instantaneous
      if (mcr_ & kMcrLoop) {
        if (rx_.size() < kMaxRxBytes) rx_.push_back(value);
        return false;
      }
      emitted = value;
      return true;
    case kIer:
      if (lcr_ & kLcrDlab) {
        dlh_ = value;
      } else {
        uint8_t enabled_now = static_cast<uint8_t>(value & ~ier_);
        ier_ = value & 0x0f;
        if (enabled_now & kIerThrEmpty) thr_empty_interrupt_pending_ = true;
      }
      return false;
    case kIirFcr:
      if (value & 0x02) rx_.clear();  // FCR: clear receive FIFO
      return false;
    case kLcr:
      lcr_ = value;
      return false;
    case kMcr:
      mcr_ = value & 0x1f;
      return false;
    case kScr:
      scr_ = value;
      return false;
    default:
      return false;
  }
}

void Serial8250::read(uint64_t offset, std::span<uint8_t> data) {
  if (data.empty()) return;
  std::fill(data.begin(), data.end(), 0);
  bool level, changed;
  {
    std::lock_guard lock(mutex_);
    data[0] = read_register(offset);
    update_interrupt_locked(level);
    changed = level != irq_asserted_;
    irq_asserted_ = level;
  }
  if (changed && irq_) irq_->set_level(level);
}

void Serial8250::write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.empty()) return;
  uint8_t emitted = 0;
  bool emit, level, changed;
  {
    std::lock_guard lock(mutex_);
    emit = write_register(offset, data[0], emitted);
    update_interrupt_locked(level);
    changed = level != irq_asserted_;
    irq_asserted_ = level;
  }
  if (emit && sink_) sink_(std::span<const uint8_t>(&emitted, 1));
  if (changed && irq_) irq_->set_level(level);
}

size_t Serial8250::inject(std::span<const uint8_t> bytes) {
  size_t taken = 0;
  bool level, changed;
  {
    std::lock_guard lock(mutex_);
    for (uint8_t b : bytes) {
      if (rx_.size() >= kMaxRxBytes) break;
      rx_.push_back(b);
      ++taken;
    }
    update_interrupt_locked(level);
    changed = level != irq_asserted_;
    irq_asserted_ = level;
  }
  if (changed && irq_) irq_->set_level(level);
  return taken;
}

}  // namespace moat::vmm
