/**
 * The exec call (PROTOCOL.md §8): spawn a process, stream stdin in and stdout/stderr out under
 * credit-based flow control, deliver signals and terminal resizes, report the exit status.
 */
#ifndef MOAT_AGENT_EXEC_SERVICE_H
#define MOAT_AGENT_EXEC_SERVICE_H

#include <stddef.h>

#include "../rpc/conn.h"

size_t exec_stream_size(void);
void exec_open(struct stream *s, moat_rpc_v1_ExecRequest *req);
/** Reaps every exited child (SIGCHLD); children that belong to no exec are just reaped. */
void exec_reap_children(void);
/** Number of exec processes still running. */
unsigned exec_live_count(void);
/** SIGKILLs the process group of every exec (host-mode exit). */
void exec_kill_all(void);

#endif
