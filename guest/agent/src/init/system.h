/**
 * PID 1 system setup and teardown: console descriptors, hostname, wall clock, loopback interface,
 * default environment, and the power-off sequence.
 */
#ifndef MOAT_AGENT_SYSTEM_H
#define MOAT_AGENT_SYSTEM_H

#include "cmdline.h"

/** Makes sure fds 0, 1, 2 are open on /dev/console (the kernel may start init without them). */
void system_console(void);
void system_identity(const struct boot_params *p);
/**
 * Stops every other process (SIGTERM, up to grace_ms, then SIGKILL), syncs, unmounts, prints
 * MOAT_AGENT_POWEROFF and powers off or reboots (p->shutdown). Never returns.
 */
_Noreturn void system_shutdown(const struct boot_params *p, unsigned grace_ms);

#endif
