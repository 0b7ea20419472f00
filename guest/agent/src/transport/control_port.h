/**
 * The out-of-band control channel of the QEMU fallback backend: a virtio-serial port named
 * moat.ctl on which the host writes text lines. "poweroff" asks for a clean power-off (the same path
 * as the RPC shutdown call), so the backend can stop a guest gracefully without speaking the RPC.
 * Absent port (our VMM, host mode): nothing happens.
 */
#ifndef MOAT_AGENT_CONTROL_PORT_H
#define MOAT_AGENT_CONTROL_PORT_H

#include "../core/loop.h"

#define MOAT_CONTROL_PORT_NAME "moat.ctl"

/** Starts watching the control port if the VM has one. 0, or -errno when it exists but cannot be opened. */
int serve_control_port(struct loop *l);

#endif
