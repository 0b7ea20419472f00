/**
 * VirtioBlock: virtio-blk (device type 2) backed by a host file, read-only or read-write.
 *
 * Requests (virtio 1.x §5.2.6): IN (read), OUT (write), FLUSH (fdatasync), GET_ID (20-byte serial).
 * Each request is parsed from its descriptor chain through ChainReader/ChainWriter: header
 * (type, reserved, sector), data buffers, one status byte at the very end. Sector ranges are
 * checked against the capacity (overflow-safe); writes to a read-only disk, unknown types and
 * malformed chains complete with IOERR/UNSUPP — the guest gets an error, the VMM keeps running.
 * A chain with no room for the status byte cannot be answered and marks the device broken.
 * File I/O runs on the EventLoop thread (pread/pwrite on the opened file).
 */
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "event/event_loop.h"
#include "virtio/queue.h"
#include "virtio/virtio_device.h"

namespace moat::vmm {

struct BlockConfig {
  std::string path;        ///< disk image (regular file or block device)
  bool read_only = false;  ///< offer VIRTIO_BLK_F_RO and refuse OUT requests
  std::string serial;      ///< GET_ID answer (<= 20 bytes; default: file name)
};

/** Request types and status values (virtio 1.x §5.2.6). */
namespace blk {
constexpr uint32_t kTypeIn = 0, kTypeOut = 1, kTypeFlush = 4, kTypeGetId = 8;
constexpr uint8_t kStatusOk = 0, kStatusIoErr = 1, kStatusUnsupported = 2;
constexpr uint64_t kSectorSize = 512;
constexpr uint64_t kFeatureSegMax = 1ull << 2, kFeatureRo = 1ull << 5, kFeatureFlush = 1ull << 9;
constexpr uint32_t kIdBytes = 20;
}  // namespace blk

class VirtioBlock : public VirtioDevice {
 public:
  /** Opens the file (O_RDONLY or O_RDWR); nullptr + error naming the path and the fix. */
  static std::shared_ptr<VirtioBlock> open(const BlockConfig& config, std::string& error);
  ~VirtioBlock() override;

  uint32_t device_type() const override { return kVirtioBlock; }
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 1; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  bool activate(ActivateContext context, std::string& error) override;
  void queue_notify(uint16_t index) override;
  void reset() override;
  std::string_view name() const override { return "blk"; }

  uint64_t capacity_sectors() const { return capacity_sectors_; }

  /** Executes one request chain and returns the used length, or nullopt when the chain has no
   *  room for a status byte (unanswerable: the caller marks the device broken). Exposed for tests
   *  and the fuzzer. */
  std::optional<uint32_t> process_request(const GuestMemory& memory, const DescriptorChain& chain);

 private:
  VirtioBlock(int fd, BlockConfig config, uint64_t size_bytes);

  int fd_;
  BlockConfig config_;
  uint64_t capacity_sectors_;
  std::mutex mutex_;
  ActivateContext context_;
  SplitQueue queue_;
  bool active_ = false;
  bool broken_ = false;
};

}  // namespace moat::vmm
