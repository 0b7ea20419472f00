/**
 * VirtioBlock implementation: request parsing, bounds checks and positional file I/O straight
 * between the host file and the guest's buffers (preadv/pwritev over GuestMemory slices).
 */
#include "virtio/block/virtio_block.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace moat::vmm {
namespace {
#pragma pack(push, 1)
struct RequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
#pragma pack(pop)

/** Repeats preadv/pwritev over `slices` until done; false on error or EOF. */
bool transfer(int fd, std::vector<std::span<uint8_t>> slices, uint64_t offset, bool write) {
  size_t first = 0;
  while (first < slices.size()) {
    iovec iov[64];
    int count = 0;
    for (size_t i = first; i < slices.size() && count < 64; ++i, ++count) {
      iov[count] = {slices[i].data(), slices[i].size()};
    }
    ssize_t n = write ? pwritev(fd, iov, count, static_cast<off_t>(offset))
                      : preadv(fd, iov, count, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    offset += static_cast<uint64_t>(n);
    auto left = static_cast<size_t>(n);
    while (first < slices.size() && left >= slices[first].size()) left -= slices[first++].size();
    if (left > 0) slices[first] = slices[first].subspan(left);
  }
  return true;
}
}  // namespace

std::shared_ptr<VirtioBlock> VirtioBlock::open(const BlockConfig& config, std::string& error) {
  int fd = ::open(config.path.c_str(), (config.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    error = "virtio-blk: cannot open disk " + config.path + (config.read_only ? " read-only: " : " read-write: ") +
            std::strerror(e) +
            (e == EACCES || e == EROFS ? " (check the file's permissions, or attach it read-only)"
             : e == ENOENT         ? " (create the image first)"
                                   : "");
    return nullptr;
  }
  struct stat st {};
  uint64_t size = 0;
  if (fstat(fd, &st) != 0) {
    error = "virtio-blk: cannot stat disk " + config.path + ": " + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) size = 0;
  } else {
    error = "virtio-blk: disk " + config.path + " is neither a regular file nor a block device";
    close(fd);
    return nullptr;
  }
  if (size % blk::kSectorSize != 0) {
    error = "virtio-blk: disk " + config.path + " is " + std::to_string(size) +
            " bytes, not a multiple of 512 (resize it, e.g. truncate -s <n>M)";
    close(fd);
    return nullptr;
  }
  BlockConfig cfg = config;
  if (cfg.serial.empty()) {
    auto slash = cfg.path.find_last_of('/');
    cfg.serial = slash == std::string::npos ? cfg.path : cfg.path.substr(slash + 1);
  }
  if (cfg.serial.size() > blk::kIdBytes) cfg.serial.resize(blk::kIdBytes);
  return std::shared_ptr<VirtioBlock>(new VirtioBlock(fd, std::move(cfg), size));
}

VirtioBlock::VirtioBlock(int fd, BlockConfig config, uint64_t size_bytes)
    : fd_(fd), config_(std::move(config)), capacity_sectors_(size_bytes / blk::kSectorSize) {}

VirtioBlock::~VirtioBlock() { close(fd_); }

uint64_t VirtioBlock::device_features() const {
  return kVirtioFVersion1 | blk::kFeatureSegMax | blk::kFeatureFlush | (config_.read_only ? blk::kFeatureRo : 0);
}

void VirtioBlock::read_config(uint64_t offset, std::span<uint8_t> data) {
  // struct virtio_blk_config { le64 capacity; le32 size_max; le32 seg_max; ... }
  uint8_t config[16] = {};
  std::memcpy(config, &capacity_sectors_, 8);
  uint32_t seg_max = queue_max_size() - 2;
  std::memcpy(config + 12, &seg_max, 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < sizeof config ? config[offset + i] : 0;
}

bool VirtioBlock::activate(ActivateContext context, std::string& error) {
  std::lock_guard lock(mutex_);
  if (context.queues.empty() || !context.queues[0].ready) {
    error = "request queue 0 is not ready";
    return false;
  }
  if (!queue_.init(*context.memory, context.queues[0], error)) return false;
  context_ = std::move(context);
  active_ = true;
  broken_ = false;
  return true;
}

void VirtioBlock::reset() {
  std::lock_guard lock(mutex_);
  active_ = false;
  broken_ = false;
  queue_ = SplitQueue{};
  context_ = ActivateContext{};
}

std::optional<uint32_t> VirtioBlock::process_request(const GuestMemory& memory, const DescriptorChain& chain) {
  if (chain.writable_bytes == 0) return std::nullopt;
  ChainReader reader(memory, chain);
  ChainWriter writer(memory, chain);
  const uint64_t data_in = chain.writable_bytes - 1;  // writable bytes before the status byte
  auto finish = [&](uint8_t status) -> std::optional<uint32_t> {
    // The status is the last writable byte, wherever the data ended.
    if (!writer.advance(data_in - writer.written())) return std::nullopt;
    if (!writer.write(std::span<const uint8_t>(&status, 1))) return std::nullopt;
    return static_cast<uint32_t>(writer.written());
  };

  RequestHeader header{};
  if (!reader.read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&header), sizeof header))) {
    return finish(blk::kStatusIoErr);
  }
  switch (header.type) {
    case blk::kTypeIn:
    case blk::kTypeOut: {
      const bool is_write = header.type == blk::kTypeOut;
      const uint64_t len = is_write ? reader.remaining() : data_in;
      if (is_write && config_.read_only) return finish(blk::kStatusIoErr);
      if (len % blk::kSectorSize != 0) return finish(blk::kStatusIoErr);
      const uint64_t sectors = len / blk::kSectorSize;
      if (header.sector > capacity_sectors_ || sectors > capacity_sectors_ - header.sector) {
        return finish(blk::kStatusIoErr);
      }
      std::vector<std::span<uint8_t>> slices;
      bool ok = is_write ? reader.next_slices(len, slices) : writer.peek_slices(len, slices);
      if (!ok) return finish(blk::kStatusIoErr);
      if (!transfer(fd_, std::move(slices), header.sector * blk::kSectorSize, is_write)) {
        return finish(blk::kStatusIoErr);
      }
      if (!is_write) writer.advance(len);
      return finish(blk::kStatusOk);
    }
    case blk::kTypeFlush:
      if (config_.read_only) return finish(blk::kStatusOk);
      return finish(fdatasync(fd_) == 0 ? blk::kStatusOk : blk::kStatusIoErr);
    case blk::kTypeGetId: {
      uint8_t id[blk::kIdBytes] = {};
      std::memcpy(id, config_.serial.data(), config_.serial.size());
      uint64_t n = std::min<uint64_t>(data_in, blk::kIdBytes);
      if (!writer.write(std::span<const uint8_t>(id, n))) return finish(blk::kStatusIoErr);
      return finish(blk::kStatusOk);
    }
    default:
      return finish(blk::kStatusUnsupported);
  }
}

void VirtioBlock::queue_notify(uint16_t index) {
  std::lock_guard lock(mutex_);
  if (!active_ || broken_ || index != 0) return;
  bool completed = false;
  auto error = queue_.drain(
      [this](const DescriptorChain& chain) -> SplitQueue::Served {
        auto used = process_request(*context_.memory, chain);
        if (!used) return std::string("request without room for a status byte");
        return *used;
      },
      completed);
  if (error) {
    broken_ = true;
    context_.interrupt->mark_broken("virtio-blk: " + *error);
    return;
  }
  if (completed && queue_.needs_interrupt()) context_.interrupt->signal_used_queue(0);
}

}  // namespace moat::vmm
