/**
 * MachineConfig: everything the machine needs to build one VM, already validated for shape by the
 * caller (the addon parses it from the JS config object; see backends/kvm/README.md for the JSON
 * schema). The machine itself checks what only it can: files, sizes, limits.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moat::machine {

struct KernelConfig {
  std::string path;     ///< ELF vmlinux with a PVH note, or a bzImage
  std::string cmdline;  ///< user part; virtio-mmio fragments are appended by the machine
  std::string initrd;   ///< optional
};

/** T1 mode: a flat binary run at CPL3 instead of a kernel (arch/x86_64/test_payload.h). */
struct TestPayloadConfig {
  std::string path;
  std::string args;
};

struct DiskConfig {
  std::string path;
  bool read_only = false;
};

struct VsockConfig {
  uint64_t guest_cid = 3;
  std::string uds_path;
};

struct MachineConfig {
  uint32_t vcpus = 1;
  uint64_t memory_bytes = 256ull << 20;
  std::optional<KernelConfig> kernel;
  std::optional<TestPayloadConfig> test_payload;
  /** Order of virtio-mmio devices: vsock (if any), then disks in order, then rng (if any). */
  std::vector<DiskConfig> disks;
  std::optional<VsockConfig> vsock;
  bool rng = true;
  std::string console_path;  ///< serial output appended here ("" = not written to a file)
  bool console_events = false;  ///< also deliver serial output as events
};

}  // namespace moat::machine
