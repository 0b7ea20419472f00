/**
 * Starting a child process for an exec request: fork, set up stdio (three pipes, or one pseudo
 * terminal of a given size), cwd, uid/gid, environment, then execve.
 *
 * Failures are reported back through a close-on-exec pipe so the caller learns exactly which step
 * failed and with which errno:
 *   - a failure before execve (cwd, user, terminal) → spawn_process() returns an error; the child
 *     has already exited and is reaped by the caller's SIGCHLD handling.
 *   - a failed execve → the child writes "moat-agent: exec NAME: REASON" to its own stderr and exits
 *     127 (ENOENT: not found) or 126 (found but not runnable), like a shell; spawn_process() succeeds
 *     and sets exec_errno so the caller can attach an error detail.
 */
#ifndef MOAT_AGENT_SPAWN_H
#define MOAT_AGENT_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct spawn_spec {
  char *const *argv;  /* NULL-terminated, argv[0] is the program (PATH search when it has no '/') */
  char *const *envp;  /* NULL-terminated; PATH for the search comes from here (default if absent) */
  const char *cwd;    /* NULL or "" = inherit */
  bool set_user;
  uid_t uid;
  gid_t gid;
  bool tty;
  bool stdin_null;    /* stdin is /dev/null (pipes only; a tty's input simply gets no data) */
  uint16_t rows, cols;
};

struct spawned {
  pid_t pid;
  int stdin_fd;   /* write end (pipe) or the pty master; -1 if none */
  int stdout_fd;  /* read end (pipe) or the pty master (dup) */
  int stderr_fd;  /* read end (pipe); -1 with a tty (output is merged into stdout) */
  int exec_errno; /* 0, or the errno of a failed execve (the child exits 127/126) */
};

/**
 * Starts the process. Returns 0, or -errno with `err` holding a message naming the step and value
 * ("chdir /nope: No such file or directory").
 */
int spawn_process(const struct spawn_spec *spec, struct spawned *out, char *err, size_t errlen);

/**
 * Raises the agent's own open-file limit to its hard limit (every exec holds 3 descriptors), while
 * children keep starting with the original soft limit.
 */
void spawn_raise_fd_limit(void);

/** Applies a new terminal size to a pty master. Returns 0 or -errno. */
int spawn_resize(int pty_fd, uint16_t rows, uint16_t cols);

#endif
