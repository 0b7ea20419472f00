/**
 * The writable disk: detect whether it carries an ext4 filesystem and format a blank one.
 */
#ifndef MOAT_AGENT_DISK_H
#define MOAT_AGENT_DISK_H

/**
 * Makes sure `dev` holds an ext2/3/4 filesystem: returns 0 if it does; formats it with mkfs.ext4
 * (from the image) if its first 64 KiB are all zero (a fresh sparse disk); refuses (-EEXIST, logged)
 * when it holds something else, so foreign data is never overwritten.
 */
int disk_prepare_ext4(const char *dev);

#endif
