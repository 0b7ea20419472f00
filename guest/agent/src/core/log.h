/**
 * Logging for the agent: one line per message on stderr (the console when running as PID 1),
 * prefixed with "moat-agent:". Debug lines appear only when moat.debug=1 / --debug is set.
 */
#ifndef MOAT_AGENT_LOG_H
#define MOAT_AGENT_LOG_H

#include <stdbool.h>

extern bool log_debug_enabled;

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
