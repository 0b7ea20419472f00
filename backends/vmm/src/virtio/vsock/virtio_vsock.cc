/**
 * VirtioVsock: the connection multiplexer between the guest's TX/RX virtqueues and host Unix
 * sockets (Firecracker's hybrid protocol). All state lives in Impl under one mutex; socket events
 * and queue kicks both run on the EventLoop thread.
 *
 * RX scheduling: connections that owe the guest something (a control packet, or readable socket
 * data the guest has credit for) sit in `rx_list`; `process_rx()` serves them round-robin, one RX
 * buffer per packet, reading socket data straight into the guest's buffer. A socket's readable
 * interest is dropped while it is in the list or out of credit, so level-triggered epoll never
 * spins and no data is buffered on the host side for the guest.
 */
#include "virtio/vsock/virtio_vsock.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "virtio/vsock/vsock_connection.h"

namespace moat::vmm {

using vsock::ConnectionKey;
using vsock::PacketHeader;
using vsock::VsockConnection;

namespace {
constexpr size_t kMaxHandshakeLine = 32;  // "CONNECT 4294967295\n" fits
constexpr uint32_t kFirstHostPort = 1u << 30;
constexpr size_t kTxBudget = 256;  // TX packets per event-loop turn

bool fill_sockaddr(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}
}  // namespace

struct VirtioVsock::Impl : std::enable_shared_from_this<VirtioVsock::Impl> {
  Impl(VsockConfig c, EventLoop& l, int fd) : config(std::move(c)), loop(l), listen_fd(fd) {}

  VsockConfig config;
  EventLoop& loop;
  int listen_fd;
  std::mutex mutex;

  // Queues (valid while active).
  bool active = false;
  bool broken = false;
  ActivateContext context;
  SplitQueue rx, tx;

  std::map<ConnectionKey, std::unique_ptr<VsockConnection>> connections;
  std::map<int, std::string> handshakes;  // host client fd -> partial "CONNECT <port>\n"
  std::deque<ConnectionKey> rx_list;
  std::deque<PacketHeader> pending_rst;   // RSTs for connections that no longer exist
  uint32_t next_host_port = kFirstHostPort;

  // ---- helpers (mutex held) ----

  void mark_broken(const std::string& why) {
    if (broken) return;
    broken = true;
    if (context.interrupt) context.interrupt->mark_broken("virtio-vsock: " + why);
  }

  void set_interest(VsockConnection& c) {
    if (c.host_hup) return;
    uint32_t want = 0;
    if (c.state == VsockConnection::State::kEstablished && !c.host_eof && !c.host_readable && !c.in_rx_list &&
        c.peer_credit() > 0)
      want |= kEventReadable;
    if (c.backlog_size() > 0) want |= kEventWritable;
    if (want != c.interest) {
      loop.modify_fd(c.fd, want);
      c.interest = want;
    }
  }

  void schedule(VsockConnection& c) {
    if (!c.in_rx_list) {
      c.in_rx_list = true;
      rx_list.push_back(c.key);
    }
    set_interest(c);
  }

  void queue_rst(uint32_t local_port, uint32_t peer_port) {
    if (pending_rst.size() >= kMaxPendingControl) return;  // the guest's own timeout will clean up
    PacketHeader h{};
    h.src_cid = vsock::kHostCid;
    h.dst_cid = config.guest_cid;
    h.src_port = local_port;
    h.dst_port = peer_port;
    h.type = vsock::kTypeStream;
    h.op = vsock::kOpRst;
    pending_rst.push_back(h);
  }

  /** Drops a connection; tells the guest with RST when `notify_guest`. */
  void close_connection(ConnectionKey key, bool notify_guest) {
    auto it = connections.find(key);
    if (it == connections.end()) return;
    if (!it->second->host_hup) loop.remove_fd(it->second->fd);
    connections.erase(it);  // closes the socket
    if (notify_guest) queue_rst(key.local_port, key.peer_port);
  }

  /** Both directions finished (or guest asked to close and backlog drained): close with RST. */
  void maybe_finish(VsockConnection& c) {
    if (c.backlog_size() > 0) return;
    if (c.guest_closing || (c.guest_shut_send && c.host_eof)) close_connection(c.key, true);
  }

  bool add_connection(std::unique_ptr<VsockConnection> conn) {
    std::weak_ptr<Impl> weak = shared_from_this();
    ConnectionKey key = conn->key;
    std::string error;
    int fd = conn->fd;
    connections.emplace(key, std::move(conn));
    if (!loop.add_fd(fd, 0, [weak, key](uint32_t events) {
          if (auto self = weak.lock()) self->on_socket(key, events);
        }, error)) {
      connections.erase(key);
      return false;
    }
    return true;
  }

  // ---- host side ----

  void on_listen() {
    std::lock_guard lock(mutex);
    for (;;) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (connections.size() + handshakes.size() >= kMaxConnections) {
        close(fd);  // too many streams: the client sees EOF instead of OK
        continue;
      }
      std::weak_ptr<Impl> weak = shared_from_this();
      std::string error;
      handshakes.emplace(fd, std::string());
      if (!loop.add_fd(fd, kEventReadable, [weak, fd](uint32_t) {
            if (auto self = weak.lock()) self->on_handshake(fd);
          }, error)) {
        handshakes.erase(fd);
        close(fd);
      }
    }
  }

  void drop_handshake(int fd) {
    loop.remove_fd(fd);
    handshakes.erase(fd);
    close(fd);
  }

  void on_handshake(int fd) {
    std::lock_guard lock(mutex);
    auto it = handshakes.find(fd);
    if (it == handshakes.end()) return;
    // One byte at a time: never consume stream data that follows the line.
    for (;;) {
      char ch;
      ssize_t n = recv(fd, &ch, 1, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return drop_handshake(fd);
      if (ch != '\n') {
        it->second.push_back(ch);
        if (it->second.size() > kMaxHandshakeLine) return drop_handshake(fd);
        continue;
      }
      std::string line = it->second;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      unsigned long port = 0;
      char* end = nullptr;
      if (line.rfind("CONNECT ", 0) != 0 || line.size() == 8 || line[8] < '0' || line[8] > '9' ||
          (port = std::strtoul(line.c_str() + 8, &end, 10), *end != '\0') || port > 0xffffffffUL) {
        return drop_handshake(fd);
      }
      loop.remove_fd(fd);
      handshakes.erase(fd);
      uint32_t local = allocate_host_port(static_cast<uint32_t>(port));
      auto conn = std::make_unique<VsockConnection>(ConnectionKey{local, static_cast<uint32_t>(port)}, fd,
                                                    VsockConnection::State::kLocalInit, config.buf_alloc);
      conn->need_request = true;
      VsockConnection* raw = conn.get();
      if (!add_connection(std::move(conn))) return;
      schedule(*raw);
      process_rx_locked();
      return;
    }
  }

  uint32_t allocate_host_port(uint32_t peer_port) {
    for (;;) {
      uint32_t p = next_host_port++;
      if (next_host_port == 0) next_host_port = kFirstHostPort;
      if (!connections.count(ConnectionKey{p, peer_port})) return p;
    }
  }

  void on_socket(ConnectionKey key, uint32_t events) {
    std::lock_guard lock(mutex);
    auto it = connections.find(key);
    if (it == connections.end()) return;
    VsockConnection& c = *it->second;
    if (events & kEventWritable) {
      if (!c.flush_backlog()) return close_connection(key, true);
      if (c.backlog_size() == 0 && c.guest_shut_send) shutdown(c.fd, SHUT_WR);
      if (c.credit_update_due()) {
        c.need_credit_update = true;
        schedule(c);
      }
      maybe_finish(c);
      if (!connections.count(key)) return process_rx_locked();
    }
    if (events & kEventHangup) {
      // Stop the level-triggered HUP storm; remaining data is drained through the RX path.
      loop.remove_fd(c.fd);
      c.host_hup = true;
      c.interest = 0;
      if (c.backlog_size() > 0) c.backlog.clear(), c.backlog_offset = 0;  // nobody can read it now
    }
    if (events & (kEventReadable | kEventHangup)) {
      c.host_readable = true;
      schedule(c);
    }
    set_interest(c);
    process_rx_locked();
  }

  // ---- guest -> host ----

  void handle_packet(const PacketHeader& h, std::span<const std::span<const uint8_t>> payload) {
    if (h.src_cid != config.guest_cid) return;  // spoofed: drop
    if (h.dst_cid != vsock::kHostCid || h.type != vsock::kTypeStream) {
      if (h.op != vsock::kOpRst) queue_rst_to(h);
      return;
    }
    ConnectionKey key{h.dst_port, h.src_port};
    auto it = connections.find(key);
    if (h.op == vsock::kOpRequest) {
      if (it != connections.end()) {
        close_connection(key, true);
        return;
      }
      connect_to_host(key, h);
      return;
    }
    if (it == connections.end()) {
      if (h.op != vsock::kOpRst) queue_rst(h.dst_port, h.src_port);
      return;
    }
    VsockConnection& c = *it->second;
    const uint32_t credit_before = c.peer_credit();
    c.peer_buf_alloc = h.buf_alloc;
    c.peer_fwd_cnt = h.fwd_cnt;
    switch (h.op) {
      case vsock::kOpResponse: {
        if (c.state != VsockConnection::State::kLocalInit) return close_connection(key, true);
        c.state = VsockConnection::State::kEstablished;
        std::string ok = "OK " + std::to_string(c.key.local_port) + "\n";
        if (send(c.fd, ok.data(), ok.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(ok.size())) {
          return close_connection(key, true);
        }
        break;
      }
      case vsock::kOpRw:
        if (c.state != VsockConnection::State::kEstablished || c.guest_shut_send || c.host_hup) {
          return close_connection(key, true);
        }
        if (!c.accept_payload(payload, h.len)) return close_connection(key, true);
        if (c.credit_update_due() && c.backlog_size() == 0) c.need_credit_update = true;
        break;
      case vsock::kOpCreditUpdate:
        break;
      case vsock::kOpCreditRequest:
        c.need_credit_update = true;
        break;
      case vsock::kOpShutdown:
        if (h.flags & vsock::kShutdownSend) {
          c.guest_shut_send = true;
          if (c.backlog_size() == 0 && !c.host_hup) shutdown(c.fd, SHUT_WR);
        }
        if ((h.flags & vsock::kShutdownSend) && (h.flags & vsock::kShutdownRcv)) c.guest_closing = true;
        maybe_finish(c);
        if (!connections.count(key)) return;
        break;
      case vsock::kOpRst:
        return close_connection(key, false);
      default:
        return close_connection(key, true);
    }
    if (c.peer_credit() > 0 && credit_before == 0) c.credit_requested = false;
    if (c.need_credit_update || (c.host_readable && c.peer_credit() > 0)) schedule(c);
    else set_interest(c);
  }

  void queue_rst_to(const PacketHeader& h) {
    if (pending_rst.size() >= kMaxPendingControl) return;
    PacketHeader r{};
    r.src_cid = h.dst_cid;
    r.dst_cid = config.guest_cid;
    r.src_port = h.dst_port;
    r.dst_port = h.src_port;
    r.type = vsock::kTypeStream;
    r.op = vsock::kOpRst;
    pending_rst.push_back(r);
  }

  void connect_to_host(ConnectionKey key, const PacketHeader& request) {
    if (connections.size() >= kMaxConnections) return queue_rst(key.local_port, key.peer_port);
    std::string path = config.uds_path + "_" + std::to_string(key.local_port);
    sockaddr_un addr;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || !fill_sockaddr(path, addr) ||
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (fd >= 0) close(fd);
      return queue_rst(key.local_port, key.peer_port);  // nobody listens on <uds>_<port>
    }
    auto conn = std::make_unique<VsockConnection>(key, fd, VsockConnection::State::kEstablished, config.buf_alloc);
    conn->need_response = true;
    conn->peer_buf_alloc = request.buf_alloc;
    conn->peer_fwd_cnt = request.fwd_cnt;
    VsockConnection* raw = conn.get();
    if (!add_connection(std::move(conn))) return queue_rst(key.local_port, key.peer_port);
    schedule(*raw);
  }

  void process_tx_locked() {
    if (!active || broken) return;
    bool used_any = false;
    tx.set_notification(false);  // no kicks while we drain
    for (size_t budget = kTxBudget; pending_rst.size() < kMaxPendingControl; --budget) {
      if (budget == 0) {
        // A guest that keeps the queue full must not monopolise the event thread: yield and
        // continue in a posted task (kicks stay suppressed meanwhile).
        std::weak_ptr<Impl> weak = shared_from_this();
        loop.post([weak] {
          if (auto self = weak.lock()) {
            std::lock_guard lock(self->mutex);
            self->process_tx_locked();
            self->process_rx_locked();
          }
        });
        break;
      }
      auto next = tx.pop();
      if (std::holds_alternative<std::monostate>(next)) {
        tx.set_notification(true);
        if (!tx.has_available()) break;
        tx.set_notification(false);
        continue;
      }
      if (auto* e = std::get_if<QueueError>(&next)) return mark_broken("TX queue: " + e->message);
      const auto& chain = std::get<DescriptorChain>(next);
      ChainReader reader(*context.memory, chain);
      PacketHeader h{};
      if (reader.read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&h), sizeof h)) &&
          !vsock::validate_guest_header(h, config.guest_cid, reader.remaining())) {
        std::vector<std::span<uint8_t>> slices;
        reader.next_slices(h.len, slices);
        std::vector<std::span<const uint8_t>> payload(slices.begin(), slices.end());
        handle_packet(h, payload);
      }
      // Malformed packets are dropped (Firecracker does the same); the buffer goes back either way.
      if (!tx.add_used(chain.head, 0)) return mark_broken("TX used ring unwritable");
      used_any = true;
    }
    if (pending_rst.size() >= kMaxPendingControl) tx.set_notification(true);  // paused: the next kick must reach us
    if (used_any && tx.needs_interrupt()) context.interrupt->signal_used_queue(kTxQueue);
  }

  // ---- host -> guest ----

  /** Writes one packet for `c` into `chain`; returns used length, 0 if nothing to send. */
  uint32_t fill_packet(VsockConnection& c, const DescriptorChain& chain, bool& keep_scheduled, bool& closed) {
    ChainWriter writer(*context.memory, chain);
    PacketHeader h{};
    keep_scheduled = true;
    closed = false;
    auto control = [&](uint16_t op, uint32_t flags = 0) {
      c.stamp(h, config.guest_cid, op);
      h.flags = flags;
      writer.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), sizeof h));
      return static_cast<uint32_t>(sizeof h);
    };
    if (c.need_request) {
      c.need_request = false;
      return control(vsock::kOpRequest);
    }
    if (c.need_response) {
      c.need_response = false;
      return control(vsock::kOpResponse);
    }
    if (c.state == VsockConnection::State::kEstablished && c.host_readable && !c.host_eof) {
      uint32_t credit = c.peer_credit();
      if (credit == 0) {
        if (!c.credit_requested) {
          c.credit_requested = true;
          return control(vsock::kOpCreditRequest);
        }
      } else {
        uint64_t room = std::min<uint64_t>({writer.remaining() - sizeof h, credit, vsock::kMaxPayload});
        std::vector<std::span<uint8_t>> slices;
        writer.peek_slices(sizeof h + room, slices);
        // Skip the header bytes at the front of the slices.
        size_t skip = sizeof h;
        iovec iov[64];
        int count = 0;
        for (auto s : slices) {
          if (skip >= s.size()) {
            skip -= s.size();
            continue;
          }
          if (count == 64) break;
          iov[count++] = {s.data() + skip, s.size() - skip};
          skip = 0;
        }
        ssize_t n = count ? readv(c.fd, iov, count) : -1;
        if (n > 0) {
          c.stamp(h, config.guest_cid, vsock::kOpRw);
          h.len = static_cast<uint32_t>(n);
          c.tx_to_guest += h.len;
          writer.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), sizeof h));
          return static_cast<uint32_t>(sizeof h + n);
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          c.host_readable = false;  // wait for epoll again
        } else if (n == 0) {
          c.host_eof = true;
          c.host_readable = false;
          c.need_shutdown = true;
        } else {
          closed = true;  // socket error: reset the stream
          return control(vsock::kOpRst);
        }
      }
    }
    if (c.need_shutdown) {
      c.need_shutdown = false;
      uint32_t len = control(vsock::kOpShutdown, vsock::kShutdownSend);
      if (c.guest_shut_send && c.backlog_size() == 0) closed = true;  // both directions done: RST follows
      return len;
    }
    if (c.need_credit_update) {
      c.need_credit_update = false;
      return control(vsock::kOpCreditUpdate);
    }
    keep_scheduled = false;
    return 0;
  }

  void process_rx_locked() {
    if (!active || broken) return;
    bool used_any = false;
    for (;;) {
      if (pending_rst.empty() && rx_list.empty()) break;
      auto next = rx.pop();
      if (std::holds_alternative<std::monostate>(next)) break;  // wait for RX buffers
      if (auto* e = std::get_if<QueueError>(&next)) return mark_broken("RX queue: " + e->message);
      const auto& chain = std::get<DescriptorChain>(next);
      if (chain.writable_bytes <= sizeof(PacketHeader)) return mark_broken("RX buffer has no room after the packet header");
      uint32_t used = 0;
      if (!pending_rst.empty()) {
        ChainWriter writer(*context.memory, chain);
        PacketHeader h = pending_rst.front();
        pending_rst.pop_front();
        writer.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), sizeof h));
        used = sizeof h;
      } else {
        ConnectionKey key = rx_list.front();
        rx_list.pop_front();
        auto it = connections.find(key);
        if (it == connections.end()) {
          rx.undo_pop();
          continue;
        }
        VsockConnection& c = *it->second;
        c.in_rx_list = false;
        bool keep = false, closed = false;
        used = fill_packet(c, chain, keep, closed);
        if (closed) {
          close_connection(key, used == 0 || h_is_shutdown(chain));
        } else if (keep) {
          c.in_rx_list = true;
          rx_list.push_back(key);
        } else {
          set_interest(c);
        }
        if (used == 0) {
          rx.undo_pop();
          continue;
        }
      }
      if (!rx.add_used(chain.head, used)) return mark_broken("RX used ring unwritable");
      used_any = true;
    }
    if (used_any && rx.needs_interrupt()) context.interrupt->signal_used_queue(kRxQueue);
    // RX space freed up control-packet room: TX may have paused on it.
  }

  /** Whether the packet just written into `chain` was a SHUTDOWN (then an RST must follow). */
  bool h_is_shutdown(const DescriptorChain& chain) {
    auto op = context.memory->read_obj<uint16_t>(chain.buffers.front().gpa + offsetof(PacketHeader, op));
    return op && *op == vsock::kOpShutdown;
  }

  void close_all() {
    for (auto& [key, conn] : connections)
      if (!conn->host_hup) loop.remove_fd(conn->fd);
    connections.clear();
    for (auto& [fd, line] : handshakes) {
      loop.remove_fd(fd);
      close(fd);
    }
    handshakes.clear();
    rx_list.clear();
    pending_rst.clear();
  }
};

std::shared_ptr<VirtioVsock> VirtioVsock::create(const VsockConfig& config, EventLoop& loop, std::string& error) {
  if (config.guest_cid < 3 || config.guest_cid > 0xffffffffull) {
    error = "virtio-vsock: guest CID " + std::to_string(config.guest_cid) + " is invalid (use 3..4294967295)";
    return nullptr;
  }
  if (config.buf_alloc < 4096) {
    error = "virtio-vsock: buf_alloc " + std::to_string(config.buf_alloc) + " is below 4096 bytes";
    return nullptr;
  }
  sockaddr_un addr;
  // Guest-initiated connections use "<uds_path>_<port>": leave room for "_4294967295".
  if (config.uds_path.empty() || !fill_sockaddr(config.uds_path + "_4294967295", addr)) {
    error = "virtio-vsock: socket path '" + config.uds_path + "' is empty or too long (" +
            std::to_string(config.uds_path.size()) + " bytes; at most " + std::to_string(sizeof addr.sun_path - 12) +
            " so that '<path>_<port>' fits in sun_path) — choose a shorter path";
    return nullptr;
  }
  struct stat st;
  if (lstat(config.uds_path.c_str(), &st) == 0) {
    error = "virtio-vsock: socket path " + config.uds_path +
            " already exists — remove it or choose another path (is another VM using it?)";
    return nullptr;
  }
  fill_sockaddr(config.uds_path, addr);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    error = "virtio-vsock: cannot listen on " + config.uds_path + ": " + std::strerror(e) +
            (e == ENOENT ? " (create its directory first)" : e == EACCES ? " (check directory permissions)" : "");
    return nullptr;
  }
  auto device = std::shared_ptr<VirtioVsock>(new VirtioVsock(config, loop, fd));
  std::weak_ptr<Impl> weak = device->impl_;
  if (!loop.add_fd(fd, kEventReadable, [weak](uint32_t) {
        if (auto self = weak.lock()) self->on_listen();
      }, error)) {
    return nullptr;
  }
  return device;
}

VirtioVsock::VirtioVsock(VsockConfig config, EventLoop& loop, int listen_fd)
    : impl_(std::make_shared<Impl>(config, loop, listen_fd)), config_(std::move(config)), loop_(loop) {}

VirtioVsock::~VirtioVsock() {
  std::lock_guard lock(impl_->mutex);
  impl_->close_all();
  loop_.remove_fd(impl_->listen_fd);
  close(impl_->listen_fd);
  unlink(config_.uds_path.c_str());
}

void VirtioVsock::read_config(uint64_t offset, std::span<uint8_t> data) {
  uint64_t cid = config_.guest_cid;  // struct virtio_vsock_config { le64 guest_cid; }
  const auto* bytes = reinterpret_cast<const uint8_t*>(&cid);
  for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < 8 ? bytes[offset + i] : 0;
}

bool VirtioVsock::activate(ActivateContext context, std::string& error) {
  std::lock_guard lock(impl_->mutex);
  if (context.queues.size() < 3 || !context.queues[kRxQueue].ready || !context.queues[kTxQueue].ready) {
    error = "RX and TX queues must be ready";
    return false;
  }
  if (!impl_->rx.init(*context.memory, context.queues[kRxQueue], error) ||
      !impl_->tx.init(*context.memory, context.queues[kTxQueue], error)) {
    return false;
  }
  impl_->context = std::move(context);
  impl_->active = true;
  impl_->broken = false;
  impl_->process_rx_locked();  // host clients may have connected before the driver was ready
  return true;
}

void VirtioVsock::reset() {
  std::lock_guard lock(impl_->mutex);
  impl_->close_all();
  impl_->active = false;
  impl_->broken = false;
  impl_->rx = SplitQueue{};
  impl_->tx = SplitQueue{};
  impl_->context = ActivateContext{};
}

void VirtioVsock::queue_notify(uint16_t index) {
  std::lock_guard lock(impl_->mutex);
  if (index == kTxQueue) impl_->process_tx_locked();
  impl_->process_rx_locked();
  // RX buffers may have made room for control packets that paused TX.
  if (index == kRxQueue && impl_->tx.ready()) impl_->process_tx_locked(), impl_->process_rx_locked();
}

size_t VirtioVsock::connection_count() {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections.size();
}

void VirtioVsock::handle_tx_packet(const PacketHeader& header, std::span<const uint8_t> payload) {
  std::lock_guard lock(impl_->mutex);
  if (vsock::validate_guest_header(header, config_.guest_cid, payload.size())) return;
  std::span<const uint8_t> slices[1] = {payload.subspan(0, header.len)};
  impl_->handle_packet(header, slices);
}

void VirtioVsock::process_rx() {
  std::lock_guard lock(impl_->mutex);
  impl_->process_rx_locked();
}

}  // namespace moat::vmm
