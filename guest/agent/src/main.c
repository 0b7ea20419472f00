/**
 * moat-agent entry point.
 *
 * As PID 1 in the guest: mounts, overlay root, hostname/clock, then serves the RPC on vsock port
 * 1024 (and on /dev/virtio-ports/moat.rpc when present), prints MOAT_AGENT_READY on the console, and
 * powers off on request (or at once with moat.poweroff=1). It never exits: PID 1 exiting panics the
 * kernel, so every path ends in system_shutdown().
 *
 * As a normal process (host mode, for tests): `moat-agent --listen-unix PATH` serves the same RPC
 * on a Unix socket with no PID-1 duties.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"
#include "core/log.h"
#include "core/timers.h"
#include "exec/exec_service.h"
#include "exec/spawn.h"
#include "init/mounts.h"
#include "init/system.h"
#include "rpc/conn.h"
#include "transport/control_port.h"
#include "transport/listeners.h"
#include "version.h"

#define READY_MARKER "MOAT_AGENT_READY"

struct agent_state agent;

void agent_request_shutdown(bool reboot, uint32_t grace_ms) {
  agent.shutdown_requested = true;
  agent.shutdown_reboot = reboot;
  agent.shutdown_grace_ms = grace_ms;
}

static void on_signal(void *ctx, const struct signalfd_siginfo *info) {
  (void)ctx;
  if (info->ssi_signo != SIGCHLD)
    log_info("signal %u from pid %u", info->ssi_signo, info->ssi_pid);
  switch (info->ssi_signo) {
    case SIGCHLD: exec_reap_children(); break;
    case SIGTERM: agent_request_shutdown(false, 2000); break;
    case SIGINT: agent_request_shutdown(agent.pid1, 2000); break; /* PID 1: ctrl-alt-del */
    default: break;
  }
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: moat-agent                      (as PID 1 in the moat guest)\n"
          "       moat-agent --listen-unix PATH   serve the RPC on a Unix socket (host mode, tests)\n"
          "options: --listen-vsock PORT  also listen on AF_VSOCK\n"
          "         --serial PATH        also serve on a character device (virtio-serial port)\n"
          "         --debug              verbose logging\n"
          "         --version            print the version\n");
}

static void read_cmdline(struct boot_params *p) {
  FILE *f = fopen("/proc/cmdline", "re");
  char line[4096] = "";
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
  } else {
    log_warn("read /proc/cmdline: %s; using defaults", strerror(errno));
  }
  boot_params_parse(p, line);
}

static _Noreturn void run_pid1(void) {
  mount_early();
  system_console();
  boot_params_defaults(&agent.params);
  read_cmdline(&agent.params);
  log_debug_enabled = agent.params.debug;
  log_info("moat-agent %s starting as PID 1", MOAT_AGENT_VERSION);
  reboot(RB_DISABLE_CAD);
  if (agent.params.overlay && mount_overlay_root(&agent.params) < 0)
    log_error("continuing on the read-only root: writes to / will fail");
  mount_late();
  system_identity(&agent.params);
  spawn_raise_fd_limit();
  int rc = loop_init(&agent.loop, on_signal, NULL);
  if (rc < 0 || timers_init(&agent.loop) < 0) {
    printf("MOAT_AGENT_FATAL: event loop: %s\n", strerror(rc < 0 ? -rc : errno));
    fflush(stdout);
    system_shutdown(&agent.params, 0);
  }
  int transports = 0;
  if (listen_vsock(&agent.loop, agent.params.vsock_port) == 0) transports++;
  char port[300];
  bool have_port = serial_port_path(MOAT_SERIAL_PORT_NAME, port, sizeof port) == 0;
  if (!have_port && transports == 0) {
    /* No vsock: the serial port may still be on its way (ports are announced asynchronously). */
    for (int i = 0; i < 100 && !have_port; i++) {
      struct timespec ts = {0, 50 * 1000 * 1000};
      nanosleep(&ts, NULL);
      have_port = serial_port_path(MOAT_SERIAL_PORT_NAME, port, sizeof port) == 0;
    }
  }
  if (have_port) {
    if (serve_serial(&agent.loop, port) == 0) transports++;
  } else if (transports > 0) {
    serve_serial_port_when_present(&agent.loop, MOAT_SERIAL_PORT_NAME); /* late ports, without delaying ready */
  }
  serve_control_port(&agent.loop); /* QEMU fallback's graceful-stop channel, when the VM has one */
  if (transports == 0) {
    /* guest/README.md §5: a reason on the console, then power off (nobody could reach us). */
    printf("MOAT_AGENT_FATAL: no RPC transport: neither vsock port %u nor the virtio-serial port %s could be served "
           "(the kernel needs CONFIG_VIRTIO_VSOCKETS, the VM a vsock or a virtio-serial port named moat.rpc)\n",
           agent.params.vsock_port, MOAT_SERIAL_PORT_NAME);
    fflush(stdout);
    system_shutdown(&agent.params, 0);
  } else {
    /* The marker the host waits for: a line of its own on the console. */
    printf("%s\n", READY_MARKER);
    fflush(stdout);
  }
  if (agent.params.poweroff) {
    log_info("moat.poweroff=1: powering off right after ready");
    system_shutdown(&agent.params, 0);
  }
  for (;;) {
    loop_run_once(&agent.loop, -1);
    if (agent.shutdown_requested) {
      conn_flush_all(500);
      if (agent.shutdown_reboot) agent.params.shutdown = SHUTDOWN_REBOOT;
      system_shutdown(&agent.params, agent.shutdown_grace_ms);
    }
  }
}

static int run_host(int argc, char **argv) {
  const char *unix_path = NULL, *serial = NULL;
  long vsock_port = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--listen-unix") == 0 && next) unix_path = argv[++i];
    else if (strcmp(a, "--serial") == 0 && next) serial = argv[++i];
    else if (strcmp(a, "--listen-vsock") == 0 && next) {
      char *end;
      vsock_port = strtol(argv[++i], &end, 10);
      if (*end || vsock_port <= 0 || vsock_port > 0x7fffffff) {
        fprintf(stderr, "moat-agent: --listen-vsock %s: expected a port number\n", argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--debug") == 0) log_debug_enabled = true;
    else if (strcmp(a, "--version") == 0) {
      printf("moat-agent %s\n", MOAT_AGENT_VERSION);
      return 0;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "moat-agent: unknown or incomplete option %s\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (!unix_path && !serial && vsock_port < 0) {
    fprintf(stderr, "moat-agent: not PID 1, so name where to serve: --listen-unix PATH (host mode)\n");
    usage(stderr);
    return 2;
  }
  boot_params_defaults(&agent.params);
  spawn_raise_fd_limit();
  int rc = loop_init(&agent.loop, on_signal, NULL);
  if (rc < 0 || timers_init(&agent.loop) < 0) {
    fprintf(stderr, "moat-agent: event loop: %s\n", strerror(rc < 0 ? -rc : errno));
    return 1;
  }
  if (unix_path && listen_unix(&agent.loop, unix_path) < 0) return 1;
  if (vsock_port > 0 && listen_vsock(&agent.loop, (uint32_t)vsock_port) < 0) return 1;
  if (serial && serve_serial(&agent.loop, serial) < 0) return 1;
  printf("%s\n", READY_MARKER);
  fflush(stdout);
  while (!agent.shutdown_requested) loop_run_once(&agent.loop, -1);
  log_info("shutting down (host mode: stopping exec processes and exiting)");
  conn_flush_all(500);
  exec_kill_all();
  listeners_close_all();
  while (conn_list()) conn_close(conn_list());
  loop_close(&agent.loop);
  if (unix_path) unlink(unix_path);
  return 0;
}

int main(int argc, char **argv) {
  if (getpid() == 1) run_pid1();
  return run_host(argc, argv);
}
