/**
 * File-system operations (see fsops.h). Recursive removal walks with openat/unlinkat relative to
 * directory descriptors opened with O_NOFOLLOW, so a symlink inside the tree is removed, never
 * followed, even if the tree changes underneath.
 */
#include "fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 256

int fs_mkdir(const char *path, mode_t mode, bool parents) {
  if (!parents) return mkdir(path, mode) == 0 ? 0 : -errno;
  char *p = strdup(path);
  if (!p) return -ENOMEM;
  int rc = 0;
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0') continue;
    char saved = *s;
    *s = '\0';
    if (mkdir(p, saved ? 0755 : mode) != 0) {
      struct stat st;
      if (errno != EEXIST || stat(p, &st) != 0) {
        rc = -errno;
        break;
      }
      if (!S_ISDIR(st.st_mode)) {
        rc = -ENOTDIR;
        break;
      }
    }
    *s = saved;
    if (!saved) break;
  }
  free(p);
  return rc;
}

static int remove_tree_at(int dirfd, const char *name, int depth) {
  if (depth > MAX_DEPTH) return -ELOOP;
  if (unlinkat(dirfd, name, 0) == 0) return 0;
  if (errno != EISDIR && errno != EPERM) return -errno;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return -e;
  }
  int rc = 0;
  struct dirent *de;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    rc = remove_tree_at(fd, de->d_name, depth + 1);
  }
  closedir(d);
  if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0) rc = -errno;
  return rc;
}

int fs_remove(const char *path, bool recursive) {
  struct stat st;
  if (lstat(path, &st) != 0) return -errno;
  if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 ? 0 : -errno;
  if (!recursive) return rmdir(path) == 0 ? 0 : -errno;
  return remove_tree_at(AT_FDCWD, path, 0);
}

int fs_upload_begin(struct fs_upload *u, const char *path, bool make_parents) {
  memset(u, 0, sizeof *u);
  u->fd = -1;
  char *copy = strdup(path), *copy2 = strdup(path);
  if (!copy || !copy2) {
    free(copy);
    free(copy2);
    return -ENOMEM;
  }
  const char *dir = dirname(copy), *base = basename(copy2);
  int rc = 0;
  if (strcmp(base, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) rc = -EISDIR;
  if (rc == 0 && make_parents) rc = fs_mkdir(dir, 0755, true);
  if (rc == 0) {
    size_t n = strlen(dir) + strlen(base) + 32;
    u->temp = malloc(n);
    u->target = strdup(path);
    if (!u->temp || !u->target) rc = -ENOMEM;
  }
  if (rc == 0) {
    snprintf(u->temp, strlen(dir) + strlen(base) + 32, "%s/.%s.moat-XXXXXX", dir, base);
    u->fd = mkostemp(u->temp, O_CLOEXEC);
    if (u->fd < 0) rc = -errno;
  }
  if (rc == 0) {
    /* The target must not be a directory: find out now rather than at rename. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) rc = -EISDIR;
  }
  free(copy);
  free(copy2);
  if (rc < 0) fs_upload_abort(u);
  return rc;
}

int fs_upload_write(struct fs_upload *u, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(u->fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int fs_upload_commit(struct fs_upload *u, mode_t mode, bool set_owner, uid_t uid, gid_t gid,
                     bool has_mtime, int64_t mtime_ns) {
  int rc = 0;
  if (set_owner && fchown(u->fd, uid, gid) != 0) rc = -errno;
  if (rc == 0 && fchmod(u->fd, mode & 07777) != 0) rc = -errno;
  if (rc == 0 && has_mtime) {
    struct timespec ts[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                             {.tv_sec = (time_t)(mtime_ns / 1000000000), .tv_nsec = (long)(mtime_ns % 1000000000)}};
    if (ts[1].tv_nsec < 0) {
      ts[1].tv_nsec += 1000000000;
      ts[1].tv_sec -= 1;
    }
    if (futimens(u->fd, ts) != 0) rc = -errno;
  }
  if (rc == 0 && close(u->fd) != 0) rc = -errno;
  else if (rc != 0) close(u->fd);
  u->fd = -1;
  if (rc == 0 && rename(u->temp, u->target) != 0) rc = -errno;
  if (rc < 0) {
    fs_upload_abort(u);
    return rc;
  }
  free(u->temp);
  free(u->target);
  u->temp = u->target = NULL;
  return 0;
}

void fs_upload_abort(struct fs_upload *u) {
  if (u->fd >= 0) close(u->fd);
  u->fd = -1;
  if (u->temp) unlink(u->temp);
  free(u->temp);
  free(u->target);
  u->temp = u->target = NULL;
}
