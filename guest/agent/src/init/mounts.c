/**
 * PID 1 mounts (see mounts.h). The staging area for the overlay root is a tmpfs on /run of the
 * read-only base (the image must ship /run, /proc, /sys and /dev as empty directories); after
 * pivot_root the old root and the staging tmpfs are detached — overlayfs keeps its own references
 * to its layers, and the kernel keeps the writable ext4 mounted as long as the overlay uses it.
 */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/log.h"
#include "disk.h"

#define STAGE "/run/moat-stage"

static int do_mount(const char *src, const char *target, const char *type, unsigned long flags,
                    const char *data) {
  mkdir(target, 0755);
  if (mount(src, target, type, flags, data) == 0) return 0;
  int e = errno;
  if (e == EBUSY) return 0; /* already mounted (e.g. devtmpfs by CONFIG_DEVTMPFS_MOUNT) */
  log_error("mount %s (%s) on %s: %s", src, type ? type : "bind/move", target, strerror(e));
  return -e;
}

int mount_early(void) {
  int rc = 0;
  /* Skip what is already there (the kernel mounts devtmpfs itself with CONFIG_DEVTMPFS_MOUNT);
   * mounting again would stack a second instance. */
  if (access("/proc/self", F_OK) != 0 && do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) rc = -1;
  if (access("/sys/kernel", F_OK) != 0 && do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) rc = -1;
  if (access("/dev/null", F_OK) != 0 && do_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") < 0) rc = -1;
  return rc;
}

void mount_late(void) {
  do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666");
  do_mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  do_mount("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  do_mount("tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate");
  /* /dev/ptmx of devtmpfs is a device node that works only with the initial devpts instance;
   * point it at our devpts mount like util-linux and systemd do. */
  struct stat st;
  if (lstat("/dev/ptmx", &st) != 0 || !S_ISLNK(st.st_mode)) {
    unlink("/dev/ptmx");
    if (symlink("pts/ptmx", "/dev/ptmx") != 0)
      log_warn("link /dev/ptmx -> pts/ptmx: %s", strerror(errno));
  }
  if (symlink("/proc/self/fd", "/dev/fd") != 0 && errno != EEXIST) log_debug("link /dev/fd: %s", strerror(errno));
}

static int mount_upper(const struct boot_params *p, const char *rw) {
  if (strcmp(p->rwdisk, "none") != 0 && access(p->rwdisk, F_OK) == 0) {
    if (disk_prepare_ext4(p->rwdisk) == 0 &&
        do_mount(p->rwdisk, rw, "ext4", MS_NOATIME, NULL) == 0) {
      log_debug("writable layer: ext4 on %s", p->rwdisk);
      return 0;
    }
    log_warn("writable layer %s unusable; falling back to tmpfs (changes are lost at shutdown)", p->rwdisk);
  } else {
    log_debug("writable layer: tmpfs (no %s)", p->rwdisk);
  }
  return do_mount("overlay-rw", rw, "tmpfs", 0, "mode=0755");
}

static int switch_root_to(const char *newroot) {
  if (chdir(newroot) != 0) return -errno;
  /* pivot_root needs the old root's mounts to be private. */
  mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  mkdir("run", 0755);
  if (syscall(SYS_pivot_root, ".", "run") == 0) {
    if (chdir("/") != 0) return -errno;
    if (umount2("/run", MNT_DETACH) != 0) log_warn("detach old root: %s", strerror(errno));
    return 0;
  }
  /* An initramfs root cannot be pivoted away from: switch_root's way, move and chroot. */
  log_debug("pivot_root: %s; moving the new root over / instead", strerror(errno));
  if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) return -errno;
  if (chroot(".") != 0) return -errno;
  return chdir("/") == 0 ? 0 : -errno;
}

int mount_overlay_root(const struct boot_params *p) {
  /* The staging tmpfs goes on the base's /run; it leaves with the old root. */
  if (do_mount("stage", "/run", "tmpfs", 0, "mode=0755") < 0) return -1;
  mkdir(STAGE, 0700);
  const char *lower = STAGE "/lower", *rw = STAGE "/rw", *root = STAGE "/root";
  if (do_mount("/", lower, NULL, MS_BIND, NULL) < 0) return -1;
  if (mount_upper(p, rw) < 0) return -1;
  mkdir(STAGE "/rw/upper", 0755);
  mkdir(STAGE "/rw/work", 0755);
  char opts[512];
  snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, rw, rw);
  if (do_mount("overlay", root, "overlay", 0, opts) < 0) return -1;
  static const char *const moved[] = {"/proc", "/sys", "/dev"};
  for (size_t i = 0; i < 3; i++) {
    char target[128];
    snprintf(target, sizeof target, "%s%s", root, moved[i]);
    if (do_mount(moved[i], target, NULL, MS_MOVE, NULL) < 0) return -1;
  }
  int rc = switch_root_to(root);
  if (rc < 0) {
    log_error("switch into the overlay root %s: %s", root, strerror(-rc));
    return rc;
  }
  return 0;
}
