/**
 * T0: virtio-vsock muxer on fake guest memory with real Unix sockets: both connection directions
 * of the hybrid protocol, data both ways, credit/back-pressure, shutdown and protocol violations.
 */
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "fake_driver.h"
#include "virtio/vsock/virtio_vsock.h"

using namespace moat::vmm;
using namespace moat::vmm::test;
using vsock::PacketHeader;

namespace {
constexpr uint64_t kGuestCid = 42;

std::string temp_socket_path() {
  static int counter = 0;
  return "/tmp/moat-vsock-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".sock";
}

int listen_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  unlink(path.c_str());
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(listen(fd, 8) == 0);
  return fd;
}

int connect_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

std::string read_some(int fd, size_t max = 65536) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 2000) != 1) return "";
  std::string s(max, '\0');
  ssize_t n = recv(fd, s.data(), max, 0);
  s.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return s;
}

struct Packet {
  PacketHeader h;
  std::string payload;
};

/** A fake guest driver for the three vsock queues. */
struct Harness {
  FakeRam ram{8 << 20};
  FakeQueue rxq{*ram.memory, 0x1000, 64}, txq{*ram.memory, 0x4000, 64}, evq{*ram.memory, 0x7000, 8};
  std::unique_ptr<EventLoop> loop;
  std::shared_ptr<VirtioVsock> dev;
  std::shared_ptr<RecordingInterrupt> irq = std::make_shared<RecordingInterrupt>();
  std::string path = temp_socket_path();
  uint64_t next_rx_buf = 0x100000, next_tx_buf = 0x400000;
  uint32_t guest_buf_alloc = 1 << 20, guest_fwd_cnt = 0;

  explicit Harness(uint32_t buf_alloc = 256 * 1024) {
    std::string error;
    loop = EventLoop::create(error);
    REQUIRE(loop);
    dev = VirtioVsock::create({kGuestCid, path, buf_alloc}, *loop, error);
    REQUIRE_MESSAGE(dev, error);
    ActivateContext ctx{ram.memory.get(), {rxq.config(), txq.config(), evq.config()}, kVirtioFVersion1, irq};
    REQUIRE(dev->activate(std::move(ctx), error));
  }
  ~Harness() {
    dev.reset();
    for (int i = 0; i < 4; ++i) unlink((path + "_" + std::to_string(5000 + i)).c_str());
  }

  void post_rx(int count, uint32_t size = 4096) {
    for (int i = 0; i < count; ++i) {
      rxq.add_chain({{next_rx_buf, size, true}});
      next_rx_buf += size;
      if (next_rx_buf > 0x380000) next_rx_buf = 0x100000;
    }
    dev->queue_notify(VirtioVsock::kRxQueue);
  }

  void send(uint16_t op, uint32_t src_port, uint32_t dst_port, const std::string& payload = "", uint32_t flags = 0,
            uint64_t dst_cid = vsock::kHostCid) {
    PacketHeader h{kGuestCid, dst_cid, src_port, dst_port, static_cast<uint32_t>(payload.size()),
                   vsock::kTypeStream, op, flags, guest_buf_alloc, guest_fwd_cnt};
    ram.memory->write_obj(next_tx_buf, h);
    ram.memory->write(next_tx_buf + 44, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
    txq.add_chain({{next_tx_buf, 44, false}, {next_tx_buf + 44, static_cast<uint32_t>(payload.size()), false}});
    next_tx_buf += 0x20000;
    if (next_tx_buf > 0x700000) next_tx_buf = 0x400000;
    dev->queue_notify(VirtioVsock::kTxQueue);
  }

  /** Next packet the device put in the RX queue (runs the event loop a little while waiting). */
  std::optional<Packet> recv() {
    for (int i = 0; i < 50; ++i) {
      if (auto used = rxq.pop_used()) {
        // Our RX buffers are single descriptors; find it by the id's descriptor address.
        uint64_t addr = ram.memory->read_obj<uint64_t>(0x1000 + 16ull * used->first).value();
        Packet p{ram.memory->read_obj<PacketHeader>(addr).value(), {}};
        p.payload.resize(used->second - 44);
        ram.memory->read(addr + 44, std::span<uint8_t>(reinterpret_cast<uint8_t*>(p.payload.data()), p.payload.size()));
        return p;
      }
      loop->run_once(20);
    }
    return std::nullopt;
  }
};
}  // namespace

TEST_CASE("vsock: guest-initiated stream to <uds>_<port>, echo both ways, orderly close") {
  Harness t;
  int listener = listen_unix(t.path + "_5000");
  t.post_rx(16);
  t.send(vsock::kOpRequest, 1111, 5000);
  auto resp = t.recv();
  REQUIRE(resp);
  CHECK(resp->h.op == vsock::kOpResponse);
  CHECK(resp->h.src_port == 5000u);
  CHECK(resp->h.dst_port == 1111u);
  CHECK(resp->h.dst_cid == kGuestCid);
  int host = accept(listener, nullptr, nullptr);
  REQUIRE(host >= 0);

  t.send(vsock::kOpRw, 1111, 5000, "ping");
  CHECK(read_some(host) == "ping");
  REQUIRE(::send(host, "pong!", 5, 0) == 5);
  auto data = t.recv();
  REQUIRE(data);
  CHECK(data->h.op == vsock::kOpRw);
  CHECK(data->payload == "pong!");
  CHECK(t.dev->connection_count() == 1u);

  // Host closes: guest gets SHUTDOWN(SEND); guest closes: RST and the stream is gone.
  close(host);
  auto shut = t.recv();
  REQUIRE(shut);
  CHECK(shut->h.op == vsock::kOpShutdown);
  CHECK((shut->h.flags & vsock::kShutdownSend) != 0);
  t.send(vsock::kOpShutdown, 1111, 5000, "", vsock::kShutdownSend | vsock::kShutdownRcv);
  auto rst = t.recv();
  REQUIRE(rst);
  CHECK(rst->h.op == vsock::kOpRst);
  CHECK(t.dev->connection_count() == 0u);
  close(listener);
}

TEST_CASE("vsock: guest connect to a port nobody listens on gets RST, unknown streams get RST") {
  Harness t;
  t.post_rx(4);
  t.send(vsock::kOpRequest, 7, 5001);
  auto rst = t.recv();
  REQUIRE(rst);
  CHECK(rst->h.op == vsock::kOpRst);
  t.send(vsock::kOpRw, 8, 5002, "data for nobody");
  rst = t.recv();
  REQUIRE(rst);
  CHECK(rst->h.op == vsock::kOpRst);
  CHECK(rst->h.dst_port == 8u);
  t.send(vsock::kOpRequest, 9, 5003, "", 0, /*dst_cid=*/77);  // another CID: nothing routes there
  rst = t.recv();
  REQUIRE(rst);
  CHECK(rst->h.op == vsock::kOpRst);
}

TEST_CASE("vsock: host-initiated CONNECT handshake, OK line, data both ways") {
  Harness t;
  t.post_rx(16);
  int client = connect_unix(t.path);
  REQUIRE(::send(client, "CONNECT 1024\n", 13, 0) == 13);
  auto req = t.recv();
  REQUIRE(req);
  CHECK(req->h.op == vsock::kOpRequest);
  CHECK(req->h.dst_port == 1024u);
  const uint32_t host_port = req->h.src_port;
  t.send(vsock::kOpResponse, 1024, host_port);
  CHECK(read_some(client) == "OK " + std::to_string(host_port) + "\n");
  REQUIRE(::send(client, "hello guest", 11, 0) == 11);
  auto data = t.recv();
  REQUIRE(data);
  CHECK(data->payload == "hello guest");
  t.send(vsock::kOpRw, 1024, host_port, "hello host");
  CHECK(read_some(client) == "hello host");
  t.send(vsock::kOpRst, 1024, host_port);
  CHECK(read_some(client).empty());  // EOF
  CHECK(t.dev->connection_count() == 0u);
  close(client);
}

TEST_CASE("vsock: guest refusing a host connection closes the client without OK") {
  Harness t;
  t.post_rx(4);
  int client = connect_unix(t.path);
  REQUIRE(::send(client, "CONNECT 99\n", 11, 0) == 11);
  auto req = t.recv();
  REQUIRE(req);
  t.send(vsock::kOpRst, 99, req->h.src_port);
  CHECK(read_some(client).empty());
  close(client);

  int bad = connect_unix(t.path);
  REQUIRE(::send(bad, "HELLO\n", 6, 0) == 6);
  for (int i = 0; i < 5; ++i) t.loop->run_once(10);
  CHECK(read_some(bad).empty());  // malformed handshake: closed
  close(bad);
}

TEST_CASE("vsock: host->guest data respects the guest's credit") {
  Harness t;
  t.guest_buf_alloc = 1000;
  int listener = listen_unix(t.path + "_5000");
  t.post_rx(32);
  t.send(vsock::kOpRequest, 1, 5000);
  REQUIRE(t.recv()->h.op == vsock::kOpResponse);
  int host = accept(listener, nullptr, nullptr);
  std::string big(5000, 'x');
  REQUIRE(::send(host, big.data(), big.size(), 0) == 5000);
  size_t got = 0;
  bool credit_request = false;
  for (int i = 0; i < 10; ++i) {
    auto p = t.recv();
    if (!p) break;
    if (p->h.op == vsock::kOpRw) got += p->payload.size();
    if (p->h.op == vsock::kOpCreditRequest) {
      credit_request = true;
      break;
    }
  }
  CHECK(got == 1000u);
  CHECK(credit_request);
  // The guest consumed everything: credit update releases the next 1000 bytes.
  t.guest_fwd_cnt = 1000;
  t.send(vsock::kOpCreditUpdate, 1, 5000);
  got = 0;
  for (int i = 0; i < 10 && got < 1000; ++i) {
    auto p = t.recv();
    if (!p) break;
    if (p->h.op == vsock::kOpRw) got += p->payload.size();
  }
  CHECK(got == 1000u);
  close(host);
  close(listener);
}

TEST_CASE("vsock: guest overrunning our credit is reset, backlog stays bounded") {
  Harness t(4096);
  int listener = listen_unix(t.path + "_5000");
  t.post_rx(8);
  t.send(vsock::kOpRequest, 1, 5000);
  REQUIRE(t.recv()->h.op == vsock::kOpResponse);
  int host = accept(listener, nullptr, nullptr);
  // The host never reads: the socket buffer fills, then our 4 KiB backlog, then the guest must stop.
  std::string chunk(4096, 'y');
  bool reset = false;
  for (int i = 0; i < 400 && !reset; ++i) {
    t.send(vsock::kOpRw, 1, 5000, chunk);
    t.loop->run_once(0);
    reset = t.dev->connection_count() == 0;
  }
  CHECK(reset);
  t.post_rx(8);
  auto p = t.recv();
  bool saw_rst = false;
  while (p) {
    saw_rst |= p->h.op == vsock::kOpRst;
    p = t.recv();
  }
  CHECK(saw_rst);
  close(host);
  close(listener);
}

TEST_CASE("vsock: bad socket paths are refused with the path and the fix") {
  std::string error;
  std::string dummy_error;
  auto loop = EventLoop::create(dummy_error);
  CHECK_FALSE(VirtioVsock::create({3, std::string(120, 'a'), 65536}, *loop, error));
  CHECK(error.find("too long") != std::string::npos);
  std::string path = temp_socket_path();
  int fd = listen_unix(path);
  CHECK_FALSE(VirtioVsock::create({3, path, 65536}, *loop, error));
  CHECK(error.find("already exists") != std::string::npos);
  CHECK(error.find(path) != std::string::npos);
  close(fd);
  unlink(path.c_str());
  CHECK_FALSE(VirtioVsock::create({2, path, 65536}, *loop, error));
  CHECK(error.find("CID") != std::string::npos);
  CHECK_FALSE(VirtioVsock::create({3, "/nonexistent-dir/x.sock", 65536}, *loop, error));
  CHECK(error.find("/nonexistent-dir/x.sock") != std::string::npos);
}

TEST_CASE("vsock: garbage TX chains mark the device broken instead of crashing") {
  Harness t;
  t.txq.write_desc(0, 0x10000, 44, 1, 0);  // loop: 0 -> 0
  t.txq.publish(0);
  t.dev->queue_notify(VirtioVsock::kTxQueue);
  CHECK(t.irq->broken.find("loops") != std::string::npos);
}

TEST_CASE("vsock: many concurrent host streams and a large guest->host transfer under back-pressure") {
  Harness t(64 * 1024);
  t.post_rx(48);
  constexpr int kStreams = 8;
  int clients[kStreams];
  uint32_t host_ports[kStreams];
  for (int i = 0; i < kStreams; ++i) {
    clients[i] = connect_unix(t.path);
    std::string line = "CONNECT " + std::to_string(2000 + i) + "\n";
    REQUIRE(::send(clients[i], line.data(), line.size(), 0) == static_cast<ssize_t>(line.size()));
  }
  for (int seen = 0; seen < kStreams;) {
    auto p = t.recv();
    REQUIRE(p);
    REQUIRE(p->h.op == vsock::kOpRequest);
    int i = static_cast<int>(p->h.dst_port) - 2000;
    host_ports[i] = p->h.src_port;
    t.send(vsock::kOpResponse, p->h.dst_port, p->h.src_port);
    ++seen;
  }
  for (int i = 0; i < kStreams; ++i) CHECK(read_some(clients[i]) == "OK " + std::to_string(host_ports[i]) + "\n");
  CHECK(t.dev->connection_count() == static_cast<size_t>(kStreams));
  t.post_rx(kStreams);  // replace the buffers the REQUESTs used (never more than the ring holds)

  // Stream 0: 4 MiB guest->host in 32 KiB packets, only as our credit allows; the host reads slowly.
  const uint64_t total = 4 << 20;
  const uint32_t chunk = 32 * 1024;
  uint64_t sent = 0, received = 0;
  uint32_t peer_fwd = 0, peer_alloc = 64 * 1024;
  bool in_order = true;
  std::string payload(chunk, '\0');
  while (received < total) {
    uint32_t credit = peer_alloc - static_cast<uint32_t>(sent - peer_fwd);
    if (sent < total && credit >= chunk) {
      for (uint32_t k = 0; k < chunk; ++k) payload[k] = static_cast<char>((sent + k) * 13 % 251);
      t.send(vsock::kOpRw, 2000, host_ports[0], payload);
      sent += chunk;
      continue;
    }
    // Out of credit (or done sending): the host reads a little, then credit comes back.
    std::string got = read_some(clients[0], 16 * 1024);
    REQUIRE_FALSE(got.empty());
    for (char c : got) {
      in_order &= static_cast<uint8_t>(c) == static_cast<uint8_t>(received * 13 % 251);
      ++received;
    }
    for (int i = 0; i < 3; ++i) t.loop->run_once(0);
    int used = 0;
    while (auto p = t.rxq.pop_used()) {
      ++used;
      uint64_t addr = t.ram.memory->read_obj<uint64_t>(0x1000 + 16ull * p->first).value();
      auto h = t.ram.memory->read_obj<PacketHeader>(addr).value();
      CHECK(h.op != vsock::kOpRst);
      if (h.dst_port == 2000) {
        peer_fwd = h.fwd_cnt;
        peer_alloc = h.buf_alloc;
      }
    }
    if (used) t.post_rx(used);
  }
  CHECK(in_order);
  CHECK(received == total);
  CHECK(t.dev->connection_count() == static_cast<size_t>(kStreams));
  for (int i = 0; i < kStreams; ++i) close(clients[i]);
}

TEST_CASE("vsock: guest half-close reaches the host as EOF and the host can still answer") {
  Harness t;
  int listener = listen_unix(t.path + "_5000");
  t.post_rx(16);
  t.send(vsock::kOpRequest, 77, 5000);
  REQUIRE(t.recv()->h.op == vsock::kOpResponse);
  int host = accept(listener, nullptr, nullptr);
  t.send(vsock::kOpRw, 77, 5000, "request");
  t.send(vsock::kOpShutdown, 77, 5000, "", vsock::kShutdownSend);
  CHECK(read_some(host) == "request");
  char byte;
  CHECK(recv(host, &byte, 1, 0) == 0);  // EOF: the guest will send no more
  REQUIRE(::send(host, "reply", 5, 0) == 5);
  auto data = t.recv();
  REQUIRE(data);
  CHECK(data->h.op == vsock::kOpRw);
  CHECK(data->payload == "reply");
  close(host);  // host done too: SHUTDOWN(SEND) then RST, and the stream is gone
  auto shut = t.recv();
  REQUIRE(shut);
  CHECK(shut->h.op == vsock::kOpShutdown);
  auto rst = t.recv();
  REQUIRE(rst);
  CHECK(rst->h.op == vsock::kOpRst);
  CHECK(t.dev->connection_count() == 0u);
  close(listener);
}
