/**
 * File-system operations behind the file calls, independent of the wire format: recursive mkdir
 * and remove that never follow symlinks out of the tree, and the temp-file-then-rename writer used
 * by file_put so a failed or cancelled upload leaves nothing behind.
 */
#ifndef MOAT_AGENT_FSOPS_H
#define MOAT_AGENT_FSOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/** mkdir; with parents, like mkdir -p (an existing directory is fine). 0 or -errno. */
int fs_mkdir(const char *path, mode_t mode, bool parents);

/** unlink / rmdir; with recursive, like rm -r (symlinks are removed, never followed). 0 or -errno. */
int fs_remove(const char *path, bool recursive);

/** An upload in progress: a temporary file beside its target. */
struct fs_upload {
  int fd;
  char *target;
  char *temp;
};

/**
 * Creates the temporary file "<dir>/.<name>.moat-XXXXXX" (mode 0600 until commit). With
 * make_parents, missing parent directories are created (0755). 0 or -errno.
 */
int fs_upload_begin(struct fs_upload *u, const char *path, bool make_parents);
/** Writes all of data. 0 or -errno. */
int fs_upload_write(struct fs_upload *u, const void *data, size_t len);
/**
 * Applies mode, owner (when set_owner) and mtime (when has_mtime), then renames over the target.
 * 0 or -errno; on failure the temporary file is removed.
 */
int fs_upload_commit(struct fs_upload *u, mode_t mode, bool set_owner, uid_t uid, gid_t gid,
                     bool has_mtime, int64_t mtime_ns);
/** Removes the temporary file (cancel / error). Safe to call after commit or twice. */
void fs_upload_abort(struct fs_upload *u);

#endif
