/**
 * VsockConnection implementation: credit arithmetic and the bounded guest->host write path.
 */
#include "virtio/vsock/vsock_connection.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

namespace moat::vmm::vsock {

VsockConnection::VsockConnection(ConnectionKey k, int socket_fd, State s, uint32_t alloc)
    : key(k), fd(socket_fd), state(s), buf_alloc(alloc) {}

VsockConnection::~VsockConnection() {
  if (fd >= 0) close(fd);
}

uint32_t VsockConnection::peer_credit() const {
  uint32_t in_flight = tx_to_guest - peer_fwd_cnt;
  return in_flight >= peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
}

bool VsockConnection::accept_payload(std::span<const std::span<const uint8_t>> payload, uint32_t len) {
  if (len > our_free()) return false;  // the guest ignored our credit
  rx_from_guest += len;
  size_t first = 0, skip = 0;
  if (backlog_size() == 0) {
    // Fast path: straight from guest memory to the socket.
    iovec iov[64];
    int count = 0;
    for (auto s : payload) {
      if (count == 64) break;
      if (!s.empty()) iov[count++] = {const_cast<uint8_t*>(s.data()), s.size()};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = count ? sendmsg(fd, &msg, MSG_NOSIGNAL) : 0;  // no SIGPIPE if the host side closed
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    size_t written = n > 0 ? static_cast<size_t>(n) : 0;
    fwd_cnt += static_cast<uint32_t>(written);
    while (first < payload.size() && written >= payload[first].size()) written -= payload[first++].size();
    skip = written;
  }
  if (backlog_offset > 0 && backlog_offset == backlog.size()) {
    backlog.clear();
    backlog_offset = 0;
  }
  for (size_t i = first; i < payload.size(); ++i) {
    auto s = payload[i].subspan(i == first ? skip : 0);
    backlog.insert(backlog.end(), s.begin(), s.end());
  }
  return true;
}

bool VsockConnection::flush_backlog() {
  while (backlog_size() > 0) {
    ssize_t n = send(fd, backlog.data() + backlog_offset, backlog_size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    backlog_offset += static_cast<size_t>(n);
    fwd_cnt += static_cast<uint32_t>(n);
  }
  if (backlog_offset == backlog.size()) {
    backlog.clear();
    backlog_offset = 0;
  } else if (backlog_offset > (1u << 20) && backlog_offset * 2 > backlog.size()) {
    backlog.erase(backlog.begin(), backlog.begin() + static_cast<ptrdiff_t>(backlog_offset));
    backlog_offset = 0;
  }
  return true;
}

void VsockConnection::stamp(PacketHeader& h, uint64_t guest_cid, uint16_t op) {
  h.src_cid = kHostCid;
  h.dst_cid = guest_cid;
  h.src_port = key.local_port;
  h.dst_port = key.peer_port;
  h.type = kTypeStream;
  h.op = op;
  h.buf_alloc = buf_alloc;
  h.fwd_cnt = fwd_cnt;
  fwd_cnt_reported = fwd_cnt;
}

}  // namespace moat::vmm::vsock
