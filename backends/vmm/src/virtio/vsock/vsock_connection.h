/**
 * VsockConnection: the state of one vsock stream between a guest port and a host Unix socket —
 * handshake state, both credit counters, the bounded guest->host backlog and the control packets
 * owed to the guest. Pure state plus socket writes; the muxer (virtio_vsock.cc) drives it.
 */
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "virtio/vsock/vsock_packet.h"

namespace moat::vmm::vsock {

struct ConnectionKey {
  uint32_t local_port;  ///< host-side vsock port
  uint32_t peer_port;   ///< guest-side vsock port
  auto operator<=>(const ConnectionKey&) const = default;
};

class VsockConnection {
 public:
  enum class State { kLocalInit, kEstablished };

  VsockConnection(ConnectionKey key, int fd, State state, uint32_t buf_alloc);
  ~VsockConnection();
  VsockConnection(const VsockConnection&) = delete;
  VsockConnection& operator=(const VsockConnection&) = delete;

  ConnectionKey key;
  int fd;
  State state;

  // Guest -> host (our receive side): we advertise buf_alloc and report fwd_cnt.
  uint32_t buf_alloc;
  uint32_t rx_from_guest = 0;       ///< payload bytes received from the guest (wrapping)
  uint32_t fwd_cnt = 0;             ///< of those, bytes written to the host socket
  uint32_t fwd_cnt_reported = 0;    ///< fwd_cnt as of the last packet sent to the guest
  std::vector<uint8_t> backlog;     ///< received but not yet written to the host socket
  size_t backlog_offset = 0;

  // Host -> guest (the guest's receive side): the guest's buf_alloc/fwd_cnt.
  uint32_t peer_buf_alloc = 0;
  uint32_t peer_fwd_cnt = 0;
  uint32_t tx_to_guest = 0;         ///< payload bytes sent to the guest (wrapping)

  // Half-close and pending control packets.
  bool guest_shut_send = false;     ///< guest will send no more
  bool guest_closing = false;       ///< guest sent SHUTDOWN(RCV|SEND): close once the backlog drains
  bool host_eof = false;            ///< host socket read returned 0
  bool host_hup = false;            ///< socket hung up (removed from epoll)
  bool host_readable = false;       ///< epoll said readable and we have not hit EAGAIN since
  bool need_request = false, need_response = false, need_shutdown = false;
  bool need_credit_update = false, need_credit_request = false, credit_requested = false;
  bool in_rx_list = false;
  uint32_t interest = 0;            ///< current EventLoop interest

  /** Bytes the guest may still send us without overrunning buf_alloc. */
  uint32_t our_free() const { return buf_alloc - static_cast<uint32_t>(rx_from_guest - fwd_cnt); }
  /** Bytes we may still send the guest. */
  uint32_t peer_credit() const;
  size_t backlog_size() const { return backlog.size() - backlog_offset; }

  /** Accepts guest payload: writes what the socket takes now, keeps the rest. False = credit violation or socket error. */
  bool accept_payload(std::span<const std::span<const uint8_t>> payload, uint32_t len);
  /** Writes backlog to the socket. False on a socket error. */
  bool flush_backlog();
  /** Whether forwarded bytes warrant telling the guest (a CREDIT_UPDATE). */
  bool credit_update_due() const { return static_cast<uint32_t>(fwd_cnt - fwd_cnt_reported) >= buf_alloc / 4; }
  /** Fills the header fields every packet to the guest carries (ports, credit) and records fwd_cnt as reported. */
  void stamp(PacketHeader& header, uint64_t guest_cid, uint16_t op);
};

}  // namespace moat::vmm::vsock
