/**
 * Process-wide agent state shared by the entry point and the services: the event loop, whether we
 * run as PID 1 (guest) or as a normal process (host mode), boot parameters, and a pending shutdown.
 */
#ifndef MOAT_AGENT_AGENT_H
#define MOAT_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "init/cmdline.h"

struct agent_state {
  struct loop loop;
  bool pid1;
  struct boot_params params;
  bool shutdown_requested;
  bool shutdown_reboot;
  uint32_t shutdown_grace_ms;
};

extern struct agent_state agent;

/** Asks the main loop to stop after the current batch (PID 1: power off or reboot). */
void agent_request_shutdown(bool reboot, uint32_t grace_ms);

#endif
