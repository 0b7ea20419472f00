/**
 * The `moat.*` parameters the agent reads from the kernel command line (/proc/cmdline).
 *
 *   moat.poweroff=1        power off right after printing the ready marker (boot smoke tests)
 *   moat.hostname=NAME     hostname (default "moat")
 *   moat.clock=SECONDS     set the wall clock to this Unix time at boot (the host's time)
 *   moat.debug=1           verbose agent logging on the console
 *   moat.rwdisk=DEV        writable layer device (default /dev/vdb; "none" = tmpfs)
 *   moat.overlay=0         keep the read-only root as it is (no writable overlay)
 *   moat.port=N            vsock port to listen on (default 1024)
 *   moat.shutdown=MODE     how to stop the VM: poweroff, reboot, or auto (default: poweroff when
 *                          the kernel has ACPI, else reboot — microVM monitors such as QEMU with
 *                          -no-reboot or Firecracker end the VM on a guest reboot)
 *
 * Unknown moat.* parameters are reported on the console and ignored.
 */
#ifndef MOAT_AGENT_CMDLINE_H
#define MOAT_AGENT_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

struct boot_params {
  bool poweroff;
  bool debug;
  bool overlay;
  char hostname[65];
  char rwdisk[128];
  long long clock;   /* 0 = not set */
  uint32_t vsock_port;
  enum { SHUTDOWN_AUTO, SHUTDOWN_POWEROFF, SHUTDOWN_REBOOT } shutdown;
};

void boot_params_defaults(struct boot_params *p);
/** Parses a command line (space-separated, "quoted values" allowed) into p. */
void boot_params_parse(struct boot_params *p, const char *cmdline);

#endif
