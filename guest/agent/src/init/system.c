/**
 * PID 1 system setup and the shutdown sequence (see system.h).
 */
#include "system.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"

void system_console(void) {
  if (fcntl(STDOUT_FILENO, F_GETFD) >= 0 && fcntl(STDERR_FILENO, F_GETFD) >= 0) return;
  int fd = open("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0) return;
  for (int i = 0; i < 3; i++)
    if (fcntl(i, F_GETFD) < 0) dup2(fd, i);
  if (fd > 2) close(fd);
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    log_warn("loopback: socket: %s", strerror(errno));
    return;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) log_warn("loopback up: %s", strerror(errno));
  }
  close(s);
}

void system_identity(const struct boot_params *p) {
  if (sethostname(p->hostname, strlen(p->hostname)) != 0)
    log_warn("set hostname %s: %s", p->hostname, strerror(errno));
  if (p->clock > 0) {
    struct timespec ts = {.tv_sec = (time_t)p->clock, .tv_nsec = 0};
    if (clock_settime(CLOCK_REALTIME, &ts) != 0) log_warn("set clock: %s", strerror(errno));
  }
  loopback_up();
  setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  setenv("HOME", "/root", 0);
  setenv("TERM", "xterm-256color", 0);
}

/* Waits up to ms milliseconds for all children to exit, reaping them. */
static void reap_all(int ms) {
  for (int waited = 0; waited <= ms; waited += 10) {
    for (;;) {
      pid_t r = waitpid(-1, NULL, WNOHANG);
      if (r > 0) continue;
      if (r < 0 && errno == ECHILD) return;
      break;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static void unmount_all(void) {
  char *mounts[128];
  size_t n = 0;
  FILE *f = fopen("/proc/self/mounts", "re");
  if (f) {
    char line[1024];
    while (n < 128 && fgets(line, sizeof line, f)) {
      char *sp = strchr(line, ' '), *mp = sp ? sp + 1 : NULL, *end = mp ? strchr(mp, ' ') : NULL;
      if (!end) continue;
      *end = '\0';
      if (strcmp(mp, "/") != 0) mounts[n++] = strdup(mp);
    }
    fclose(f);
  }
  /* Innermost first: /proc/self/mounts lists parents before children. */
  while (n > 0) {
    char *m = mounts[--n];
    if (m && umount2(m, 0) != 0 && umount2(m, MNT_DETACH) != 0)
      log_debug("unmount %s: %s", m, strerror(errno));
    free(m);
  }
  if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0)
    log_debug("remount / read-only: %s", strerror(errno));
}

_Noreturn void system_shutdown(const struct boot_params *p, unsigned grace_ms) {
  log_info("shutting down");
  int mode = p->shutdown;
  if (mode == SHUTDOWN_AUTO)
    mode = access("/sys/firmware/acpi", F_OK) == 0 ? SHUTDOWN_POWEROFF : SHUTDOWN_REBOOT;
  kill(-1, SIGTERM);
  reap_all((int)grace_ms);
  kill(-1, SIGKILL);
  reap_all(1000);
  sync();
  unmount_all();
  sync();
  /* The console marker of guest/README.md §5: a clean, requested stop (not a panic). */
  static const char marker[] = "MOAT_AGENT_POWEROFF\n";
  ssize_t ignored = write(STDOUT_FILENO, marker, sizeof marker - 1);
  (void)ignored;
  reboot(mode == SHUTDOWN_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF);
  log_error("reboot(2): %s; halting", strerror(errno));
  reboot(RB_HALT_SYSTEM);
  for (;;) pause();
}
