/**
 * VirtioVsock: virtio-vsock (device type 19) in user space, with the host side speaking
 * Firecracker's hybrid Unix-socket protocol.
 *
 *  - Host-initiated: a client connects to `uds_path` and sends "CONNECT <port>\n"; the device sends
 *    a REQUEST to the guest (src = a fresh host port), and on the guest's RESPONSE writes
 *    "OK <hostport>\n" to the client; raw bytes follow both ways. A guest RST closes the client.
 *  - Guest-initiated: a REQUEST to CID 2 port P connects to the Unix socket "<uds_path>_<P>"; on
 *    success the guest gets RESPONSE, otherwise RST.
 *
 * Queues: 0 = RX (device -> driver), 1 = TX (driver -> device), 2 = event (unused: no migration).
 * Flow control both ways with virtio credit (buf_alloc/fwd_cnt): host-socket bytes are read only
 * while the guest has advertised room, straight into the guest's RX buffers; guest bytes wait in a
 * per-connection buffer bounded by our advertised buf_alloc until the host socket takes them.
 * Nothing is buffered without bound: control replies are capped, and TX processing pauses while the
 * RX side is backed up. All socket I/O runs on the EventLoop thread.
 */
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "event/event_loop.h"
#include "virtio/queue.h"
#include "virtio/virtio_device.h"
#include "virtio/vsock/vsock_packet.h"

namespace moat::vmm {

struct VsockConfig {
  uint64_t guest_cid = 3;                  ///< >= 3
  std::string uds_path;                    ///< host Unix socket (must not exist; <= 107 bytes)
  uint32_t buf_alloc = 256 * 1024;         ///< receive buffer advertised to the guest per stream
};

class VirtioVsock : public VirtioDevice {
 public:
  static constexpr uint16_t kRxQueue = 0, kTxQueue = 1, kEventQueue = 2;
  static constexpr size_t kMaxPendingControl = 1024;
  static constexpr size_t kMaxConnections = 4096;

  /** Binds and listens on `uds_path`; nullptr + error naming the path and the limit/fix. */
  static std::shared_ptr<VirtioVsock> create(const VsockConfig& config, EventLoop& loop,
                                             std::string& error);
  ~VirtioVsock() override;

  uint32_t device_type() const override { return kVirtioVsock; }
  uint64_t device_features() const override { return kVirtioFVersion1; }
  uint16_t num_queues() const override { return 3; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  bool activate(ActivateContext context, std::string& error) override;
  void queue_notify(uint16_t index) override;
  void reset() override;
  std::string_view name() const override { return "vsock"; }

  const VsockConfig& config() const { return config_; }
  /** Open streams (tests/diagnostics). */
  size_t connection_count();

  /** Handles one guest TX packet (exposed for unit tests and the fuzzer; takes the lock). */
  void handle_tx_packet(const vsock::PacketHeader& header, std::span<const uint8_t> payload);
  /** Moves pending host->guest packets into RX buffers (takes the lock). */
  void process_rx();

 private:
  VirtioVsock(VsockConfig config, EventLoop& loop, int listen_fd);
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared: event callbacks hold weak references
  VsockConfig config_;
  EventLoop& loop_;
};

}  // namespace moat::vmm
