/**
 * libFuzzer target: virtio-vsock packet handling. TX queue, RX queue and every buffer come from
 * the input; a real listener at <uds>_1024 and (when the first byte is odd) a host client doing the
 * CONNECT handshake give the state machine live connections to drive.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "fuzz_memory.h"
#include "virtio/vsock/virtio_vsock.h"

using namespace moat::vmm;

namespace {
int unix_socket(const std::string& path, bool listen_mode) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (listen_mode) {
    unlink(path.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 64) != 0) abort();
  } else if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/moat-fuzz-vsock-" + std::to_string(getpid()) + ".sock";
  static std::unique_ptr<EventLoop> loop = [] {
    std::string error;
    return EventLoop::create(error);
  }();
  static int listener = unix_socket(path + "_1024", true);
  fuzz::FuzzRam ram(data, size);
  std::string error;
  auto dev = VirtioVsock::create({3, path, 8192}, *loop, error);
  if (!dev) abort();
  auto irq = std::make_shared<fuzz::NullInterrupt>();
  ActivateContext ctx{ram.memory.get(), {fuzz::queue_at(0), fuzz::queue_at(1), fuzz::queue_at(2)},
                      kVirtioFVersion1, irq};
  if (!dev->activate(std::move(ctx), error)) return 0;
  int client = -1;
  if (size > 0 && (data[0] & 1)) {
    client = unix_socket(path, false);
    if (client >= 0) (void)!send(client, "CONNECT 1024\n", 13, MSG_NOSIGNAL);
    loop->run_once(0);
    loop->run_once(0);
  }
  dev->queue_notify(VirtioVsock::kTxQueue);
  if (client >= 0) (void)!send(client, "xyz", 3, MSG_NOSIGNAL);  // the stream may be reset already
  loop->run_once(0);
  dev->queue_notify(VirtioVsock::kRxQueue);
  for (;;) {  // drain guest-initiated connections so the listener's backlog never fills
    int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) break;
    (void)!send(fd, "hello", 5, MSG_NOSIGNAL);
    close(fd);
  }
  loop->run_once(0);
  dev->queue_notify(VirtioVsock::kRxQueue);
  if (client >= 0) close(client);
  dev.reset();
  return 0;
}
