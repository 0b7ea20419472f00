/** Exit port and i8042 reset (see system_devices.h). */
#include "machine/system_devices.h"

#include <algorithm>
#include <cstring>

namespace moat::machine {

void ExitPort::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void ExitPort::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0) return;
  uint32_t status = 0;
  std::memcpy(&status, data.data(), std::min<size_t>(data.size(), sizeof status));
  on_exit_(status);
}

void I8042::read(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  if (offset == 0 && !data.empty()) data[0] = kStatus;
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == 0 && !data.empty() && data[0] == kResetCommand) on_reset_();
}

}  // namespace moat::machine
