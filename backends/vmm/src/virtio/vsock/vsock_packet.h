/**
 * virtio-vsock packet header (virtio 1.x §5.10.6): layout, constants and validation.
 * All fields little-endian; the header is 44 bytes, packed.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace moat::vmm::vsock {

#pragma pack(push, 1)
struct PacketHeader {
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t len;
  uint16_t type;
  uint16_t op;
  uint32_t flags;
  uint32_t buf_alloc;
  uint32_t fwd_cnt;
};
#pragma pack(pop)
static_assert(sizeof(PacketHeader) == 44);

constexpr uint64_t kHostCid = 2;
constexpr uint16_t kTypeStream = 1;
enum Op : uint16_t {
  kOpInvalid = 0,
  kOpRequest = 1,
  kOpResponse = 2,
  kOpRst = 3,
  kOpShutdown = 4,
  kOpRw = 5,
  kOpCreditUpdate = 6,
  kOpCreditRequest = 7,
};
constexpr uint32_t kShutdownRcv = 1;   ///< sender will receive no more
constexpr uint32_t kShutdownSend = 2;  ///< sender will send no more
/** Largest payload one packet may carry (Linux VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
constexpr uint32_t kMaxPayload = 64 * 1024;

/** Why a guest packet is refused; nullopt when the header is acceptable for `guest_cid`. */
std::optional<std::string> validate_guest_header(const PacketHeader& header, uint64_t guest_cid,
                                                 uint64_t bytes_after_header);

}  // namespace moat::vmm::vsock
