/**
 * Where the RPC is served: a listening socket (AF_VSOCK port 1024 in the guest, a Unix socket in
 * host mode) whose every accepted connection becomes an RPC connection, and the virtio-serial port
 * /dev/virtio-ports/moat.rpc (QEMU fallback, no vsock) served as one long-lived connection.
 */
#ifndef MOAT_AGENT_LISTENERS_H
#define MOAT_AGENT_LISTENERS_H

#include <stdint.h>

#include "../core/loop.h"

#define MOAT_SERIAL_PORT_NAME "moat.rpc"

/** Listens on a Unix socket path (replacing a stale socket file). 0 or -errno (message logged). */
int listen_unix(struct loop *l, const char *path);
/** Listens on AF_VSOCK, any CID, the given port. 0 or -errno (message logged). */
int listen_vsock(struct loop *l, uint32_t port);
/** Serves the RPC on a character device (virtio-serial port). 0 or -errno (message logged). */
int serve_serial(struct loop *l, const char *path);

/**
 * Finds the virtio-serial port called `name`: /dev/virtio-ports/NAME when udev made it, else the
 * /dev/vportNpM whose /sys/class/virtio-ports/.../name matches. 0 or -ENOENT.
 */
int serial_port_path(const char *name, char *out, size_t len);
/**
 * Serves the RPC on the port called `name` as soon as it exists: the kernel announces ports
 * asynchronously (after the host's PORT_ADD), possibly after PID 1 has started, so this polls for
 * up to 30 s without holding up readiness on vsock.
 */
void serve_serial_port_when_present(struct loop *l, const char *name);

/** Stops listening (host-mode exit). Connections already accepted are not touched. */
void listeners_close_all(void);

#endif
