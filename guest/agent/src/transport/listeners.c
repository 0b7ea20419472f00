/**
 * Listening sockets and the serial port (see listeners.h). Accepted sockets are non-blocking and
 * close-on-exec, so exec'd processes never inherit them.
 */
#include "listeners.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../core/log.h"
#include "../core/timers.h"
#include "../rpc/conn.h"

struct listener {
  struct listener *next;
  struct watch w;
  struct loop *loop;
};

static struct listener *listeners;

static void on_accept(struct watch *w, uint32_t events) {
  (void)events;
  struct listener *ls = w->ctx;
  for (;;) {
    int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR) log_warn("accept: %s", strerror(errno));
      return;
    }
    log_debug("rpc: new connection (fd %d)", fd);
    if (!conn_create(ls->loop, fd, CONN_SOCKET)) {
      log_error("rpc: out of memory for a new connection");
      close(fd);
    }
  }
}

static int start_listener(struct loop *l, int fd, const char *what) {
  if (listen(fd, 64) != 0) {
    int e = errno;
    log_error("listen on %s: %s", what, strerror(e));
    close(fd);
    return -e;
  }
  struct listener *ls = calloc(1, sizeof *ls);
  if (!ls) {
    close(fd);
    return -ENOMEM;
  }
  ls->loop = l;
  ls->next = listeners;
  listeners = ls;
  watch_init(&ls->w, fd, on_accept, ls);
  return loop_watch(l, &ls->w, EPOLLIN);
}

int listen_unix(struct loop *l, const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    log_error("--listen-unix %s: path longer than %zu bytes; use a shorter path", path, sizeof addr.sun_path - 1);
    return -ENAMETOOLONG;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    log_error("bind Unix socket %s: %s", path, strerror(e));
    close(fd);
    return -e;
  }
  return start_listener(l, fd, path);
}

int listen_vsock(struct loop *l, uint32_t port) {
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    log_error("vsock socket: %s (guest kernel needs CONFIG_VIRTIO_VSOCKETS)", strerror(e));
    return -e;
  }
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    log_error("bind vsock port %u: %s", port, strerror(e));
    close(fd);
    return -e;
  }
  char what[32];
  snprintf(what, sizeof what, "vsock port %u", port);
  return start_listener(l, fd, what);
}

int serve_serial(struct loop *l, const char *path) {
  int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    log_error("open %s: %s", path, strerror(e));
    return -e;
  }
  if (!conn_create(l, fd, CONN_SERIAL)) {
    close(fd);
    return -ENOMEM;
  }
  return 0;
}

void listeners_close_all(void) {
  while (listeners) {
    struct listener *ls = listeners;
    listeners = ls->next;
    loop_unwatch(ls->loop, &ls->w);
    close(ls->w.fd);
    free(ls);
  }
}

/* ---- virtio-serial port discovery ---- */

#define PORT_POLL_MS 50
#define PORT_POLL_LIMIT_MS 30000

static struct timer port_timer;
static struct loop *port_loop;
static char port_name[64];
static uint64_t port_deadline;

/* udev would make /dev/virtio-ports/NAME; the guest has no udev, so sysfs names the port. */
int serial_port_path(const char *name, char *out, size_t len) {
  snprintf(out, len, "/dev/virtio-ports/%s", name);
  if (access(out, F_OK) == 0) return 0;
  DIR *d = opendir("/sys/class/virtio-ports");
  if (!d) return -ENOENT;
  struct dirent *de;
  int rc = -ENOENT;
  while (rc != 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char file[300], got[128] = "";
    snprintf(file, sizeof file, "/sys/class/virtio-ports/%s/name", de->d_name);
    FILE *f = fopen(file, "re");
    if (!f) continue;
    if (fgets(got, sizeof got, f)) got[strcspn(got, "\n")] = '\0';
    fclose(f);
    if (strcmp(got, name) == 0) {
      snprintf(out, len, "/dev/%s", de->d_name);
      rc = access(out, F_OK) == 0 ? 0 : -ENOENT;
    }
  }
  closedir(d);
  return rc;
}

static void port_poll(struct timer *t) {
  (void)t;
  char path[300];
  if (serial_port_path(port_name, path, sizeof path) == 0) {
    log_debug("virtio-serial port %s is %s", port_name, path);
    serve_serial(port_loop, path);
    return;
  }
  if (now_ms() < port_deadline) timer_arm(&port_timer, PORT_POLL_MS);
  else log_debug("no virtio-serial port named %s appeared; serving vsock only", port_name);
}

void serve_serial_port_when_present(struct loop *l, const char *name) {
  port_loop = l;
  snprintf(port_name, sizeof port_name, "%s", name);
  port_deadline = now_ms() + PORT_POLL_LIMIT_MS;
  timer_init(&port_timer, port_poll, NULL);
  port_poll(&port_timer);
}
