/**
 * Logging implementation: formats into a stack buffer and writes the whole line with one write(2),
 * so lines from the agent never interleave mid-line with other writers of the console.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool log_debug_enabled = false;

static void log_line(const char *level, const char *fmt, va_list ap) {
  int saved = errno;
  char line[1024];
  int n = snprintf(line, sizeof line, "moat-agent: %s", level);
  if (n < 0) n = 0;
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
  errno = saved;
}

#define DEFINE_LOG(name, level, guard)      \
  void name(const char *fmt, ...) {         \
    if (!(guard)) return;                   \
    va_list ap;                             \
    va_start(ap, fmt);                      \
    log_line(level, fmt, ap);               \
    va_end(ap);                             \
  }

DEFINE_LOG(log_info, "", true)
DEFINE_LOG(log_warn, "warning: ", true)
DEFINE_LOG(log_error, "error: ", true)
DEFINE_LOG(log_debug, "debug: ", log_debug_enabled)
