/**
 * Writable disk preparation (see disk.h). The ext superblock sits at byte 1024, its magic 0xEF53 at
 * offset 56 within it.
 */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/log.h"

#define PROBE_BYTES 65536

static int run_mkfs(const char *dev) {
  static const char *const tools[] = {"/sbin/mkfs.ext4", "/usr/sbin/mkfs.ext4", "/sbin/mke2fs",
                                      "/usr/sbin/mke2fs"};
  const char *tool = NULL;
  for (size_t i = 0; i < sizeof tools / sizeof tools[0] && !tool; i++)
    if (access(tools[i], X_OK) == 0) tool = tools[i];
  if (!tool) {
    log_error("format %s: no mkfs.ext4 in the image (install e2fsprogs in the base image)", dev);
    return -ENOENT;
  }
  log_info("formatting writable disk %s (ext4)", dev);
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
    execl(tool, tool, "-q", "-F", "-t", "ext4", "-L", "moat-rw", "-E",
          "lazy_itable_init=1,lazy_journal_init=1", dev, (char *)NULL);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -errno;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    log_error("format %s: %s failed (status %d)", dev, tool, status);
    return -EIO;
  }
  return 0;
}

int disk_prepare_ext4(const char *dev) {
  int fd = open(dev, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    log_error("open writable disk %s: %s", dev, strerror(e));
    return -e;
  }
  static uint8_t head[PROBE_BYTES];
  ssize_t n = pread(fd, head, sizeof head, 0);
  close(fd);
  if (n < 1084) {
    log_error("read writable disk %s: %s", dev, n < 0 ? strerror(errno) : "smaller than 2 KiB");
    return -EIO;
  }
  if (head[1080] == 0x53 && head[1081] == 0xEF) return 0;
  bool blank = true;
  for (ssize_t i = 0; i < n && blank; i++) blank = head[i] == 0;
  if (!blank) {
    log_error("writable disk %s holds data that is not ext4; not formatting it", dev);
    return -EEXIST;
  }
  return run_mkfs(dev);
}
