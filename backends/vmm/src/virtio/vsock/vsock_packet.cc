/**
 * Validation of guest-sent virtio-vsock headers: everything the muxer relies on is checked here
 * before a packet reaches a connection.
 */
#include "virtio/vsock/vsock_packet.h"

namespace moat::vmm::vsock {

std::optional<std::string> validate_guest_header(const PacketHeader& h, uint64_t guest_cid,
                                                 uint64_t bytes_after_header) {
  if (h.src_cid != guest_cid) return "source CID " + std::to_string(h.src_cid) + " is not the guest's CID";
  if (h.op == kOpInvalid || h.op > kOpCreditRequest) return "unknown operation " + std::to_string(h.op);
  if (h.len > kMaxPayload) return "payload length " + std::to_string(h.len) + " exceeds 64 KiB";
  if (h.len > bytes_after_header) return "payload length " + std::to_string(h.len) + " exceeds the buffer";
  if (h.op != kOpRw && h.len != 0) return "control packet with a payload";
  return std::nullopt;
}

}  // namespace moat::vmm::vsock
