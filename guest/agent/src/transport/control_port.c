/** moat.ctl: line commands from the host (see control_port.h). */
#include "control_port.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../agent.h"
#include "../core/log.h"
#include "../core/timers.h"
#include "listeners.h"

#define LINE_MAX_BYTES 64
#define HOST_POLL_MS 200

static struct loop *control_loop;
static struct watch control_watch;
static struct timer host_timer;
static char line[LINE_MAX_BYTES];
static size_t line_len;

static void run_command(const char *cmd) {
  if (strcmp(cmd, "poweroff") == 0) {
    log_info("moat.ctl: poweroff requested by the host");
    agent_request_shutdown(false, 0);
  } else if (strcmp(cmd, "reboot") == 0) {
    log_info("moat.ctl: reboot requested by the host");
    agent_request_shutdown(true, 0);
  } else if (cmd[0] != '\0') {
    log_error("moat.ctl: unknown command \"%s\" (known: poweroff, reboot)", cmd);
  }
}

/* virtio-serial reports POLLHUP while no host is attached: poll on a timer until one is. */
static void wait_for_host(void) {
  loop_unwatch(control_loop, &control_watch);
  timer_arm(&host_timer, HOST_POLL_MS);
}

static void check_host(struct timer *t) {
  (void)t;
  struct pollfd p = {.fd = control_watch.fd, .events = POLLIN};
  if (poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP)) {
    loop_watch(control_loop, &control_watch, EPOLLIN);
    return;
  }
  timer_arm(&host_timer, HOST_POLL_MS);
}

static void on_readable(struct watch *w, uint32_t events) {
  char buf[256];
  for (;;) {
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n <= 0) {
      if (n == 0 || (events & (EPOLLHUP | EPOLLERR))) wait_for_host(); /* the host went away */
      return;
    }
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n' || buf[i] == '\r') {
        line[line_len] = '\0';
        run_command(line);
        line_len = 0;
      } else if (line_len < LINE_MAX_BYTES - 1) {
        line[line_len++] = buf[i];
      } else {
        line_len = 0; /* overlong line: drop it */
      }
    }
  }
}

int serve_control_port(struct loop *l) {
  char path[300];
  if (serial_port_path(MOAT_CONTROL_PORT_NAME, path, sizeof path) != 0) return 0;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    log_error("open %s: %s", path, strerror(e));
    return -e;
  }
  control_loop = l;
  watch_init(&control_watch, fd, on_readable, NULL);
  timer_init(&host_timer, check_host, NULL);
  check_host(&host_timer);
  return 0;
}
