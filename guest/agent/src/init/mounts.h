/**
 * Mount helpers for PID 1: the kernel filesystems, the overlay root (read-only base + writable
 * layer) and the switch into it.
 */
#ifndef MOAT_AGENT_MOUNTS_H
#define MOAT_AGENT_MOUNTS_H

#include "cmdline.h"

/** Mounts proc, sysfs and devtmpfs in the current root (already-mounted is fine). 0 or -errno. */
int mount_early(void);

/**
 * Builds the overlay root (lower: the current read-only root; upper: ext4 on p->rwdisk, formatted
 * first if it carries no filesystem, or tmpfs) and switches into it, moving /proc, /sys and /dev
 * along. On failure the agent keeps running on the read-only root and the error is logged.
 */
int mount_overlay_root(const struct boot_params *p);

/** Mounts devpts, /dev/shm, /run, /tmp and cgroup2 in the (new) root. Logs and continues on error. */
void mount_late(void);

#endif
