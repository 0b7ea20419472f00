/**
 * The machine's own tiny port-I/O devices: the moat exit port (0x604: a 32-bit write ends the
 * machine with that status — T1 payloads report pass/fail with it and the guest agent powers off
 * with it) and the i8042 command port (0x64: 0xfe = CPU reset, what Linux does with `reboot=k`;
 * there is no keyboard controller behind it). Both only call a callback; the machine decides what
 * the event means.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "bus/device.h"

namespace moat::machine {

class ExitPort : public vmm::BusDevice {
 public:
  explicit ExitPort(std::function<void(uint32_t status)> on_exit) : on_exit_(std::move(on_exit)) {}
  void read(uint64_t, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  std::function<void(uint32_t)> on_exit_;
};

class I8042 : public vmm::BusDevice {
 public:
  static constexpr uint8_t kResetCommand = 0xfe;
  /**
   * The status register: output buffer full, input buffer empty, and the data port (0x60, not
   * mapped) reads 0xff. Linux's i8042 probe flushes 16 bytes, finds them endless and reports "No
   * controller found" at once, and `reboot=k` may write the reset command at once. A status of 0
   * (empty, ready) made Linux take it for a controller and wait for a command's answer that never
   * comes: 10000 polls of 50 µs, each a VM exit — seconds of every boot under nested KVM.
   */
  static constexpr uint8_t kStatus = 0x01;
  explicit I8042(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}
  void read(uint64_t, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  std::function<void()> on_reset_;
};

}  // namespace moat::machine
