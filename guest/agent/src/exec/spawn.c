/**
 * spawn_process(): fork + execve with a close-on-exec status pipe (see spawn.h).
 *
 * The child only calls async-signal-safe functions between fork and execve, except for the PATH
 * search, which works on memory prepared before the fork.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "../core/loop.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum spawn_stage { STAGE_TTY = 1, STAGE_CWD, STAGE_USER, STAGE_EXEC };

struct child_status {
  int stage;
  int err;
};

static const char *stage_name(int stage) {
  switch (stage) {
    case STAGE_TTY: return "terminal setup";
    case STAGE_CWD: return "chdir";
    case STAGE_USER: return "set user";
    default: return "exec";
  }
}

static const char *env_path(char *const *envp) {
  for (char *const *e = envp; e && *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return DEFAULT_PATH;
}

/* Builds the candidate list for a PATH search before fork: "dir/name\0dir/name\0\0". */
static char *path_candidates(const char *name, const char *path) {
  if (strchr(name, '/')) return NULL;
  size_t nlen = strlen(name), cap = 1;
  for (const char *p = path;; p++) {
    cap += nlen + 3;
    if (!*p) break;
    cap++;
  }
  cap += strlen(path);
  char *buf = malloc(cap), *out = buf;
  if (!buf) return NULL;
  const char *p = path;
  for (;;) {
    const char *end = strchrnul(p, ':');
    size_t dlen = (size_t)(end - p);
    if (dlen == 0) {
      out += sprintf(out, "./%s", name) + 1;
    } else {
      memcpy(out, p, dlen);
      out += dlen;
      out += sprintf(out, "/%s", name) + 1;
    }
    if (!*end) break;
    p = end + 1;
  }
  *out = '\0';
  return buf;
}

static void write_all_raw(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static _Noreturn void child_fail(int status_fd, int stage, int err) {
  struct child_status st = {stage, err};
  write_all_raw(status_fd, (const char *)&st, sizeof st);
  _exit(stage == STAGE_EXEC ? (err == ENOENT ? 127 : 126) : 126);
}

static int exec_search(const char *name, const char *candidates, char *const *argv,
                       char *const *envp) {
  if (!candidates) {
    execve(name, argv, envp);
    return errno;
  }
  int result = ENOENT;
  for (const char *c = candidates; *c; c += strlen(c) + 1) {
    execve(c, argv, envp);
    /* Like execvp: keep searching on "not here", remember "here but not runnable". */
    if (errno == EACCES) result = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR) return errno;
  }
  return result;
}

static struct rlimit child_nofile;
static bool child_nofile_set;

void spawn_raise_fd_limit(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  child_nofile = r;
  child_nofile_set = true;
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
}

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Closes every descriptor above 2 except keep (close_range(2), or a loop on older kernels). */
static void close_other_fds(int keep) {
  bool ok = keep <= 3 || syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) == 0;
  if (keep < 3) ok = ok && syscall(SYS_close_range, 3u, ~0u, 0u) == 0;
  else ok = ok && syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0;
  if (ok) return;
  struct rlimit nofile;
  int max_fd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max < 65536 ? (int)nofile.rlim_max : 65536;
  for (int fd = 3; fd < max_fd; fd++)
    if (fd != keep) close(fd);
}

static _Noreturn void child_main(const struct spawn_spec *spec, int status_fd, int in_r, int out_w,
                                 int err_w, const char *pty_slave, const char *candidates) {
  loop_reset_signals_for_child();
  if (child_nofile_set) setrlimit(RLIMIT_NOFILE, &child_nofile); /* programs expect the usual soft limit */
  if (setsid() < 0) child_fail(status_fd, STAGE_TTY, errno);
  if (pty_slave) {
    int s = open(pty_slave, O_RDWR);
    if (s < 0) child_fail(status_fd, STAGE_TTY, errno);
    if (ioctl(s, TIOCSCTTY, 0) != 0) child_fail(status_fd, STAGE_TTY, errno);
    in_r = out_w = err_w = s;
  } else if (spec->stdin_null) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) in_r = null; /* else the pipe, whose write end the parent closes */
  }
  if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
    child_fail(status_fd, STAGE_TTY, errno);
  /* Close every other descriptor the agent holds (sockets, other children's pipes). */
  close_other_fds(status_fd);
  if (spec->cwd && spec->cwd[0] && chdir(spec->cwd) != 0) child_fail(status_fd, STAGE_CWD, errno);
  if (spec->set_user) {
    if (setgroups(0, NULL) != 0 && errno != EPERM) child_fail(status_fd, STAGE_USER, errno);
    if (setgid(spec->gid) != 0) child_fail(status_fd, STAGE_USER, errno);
    if (setuid(spec->uid) != 0) child_fail(status_fd, STAGE_USER, errno);
  }
  int err = exec_search(spec->argv[0], candidates, spec->argv, spec->envp);
  /* The message the user sees, on the process's own stderr, like a shell's. */
  char msg[512];
  int n = snprintf(msg, sizeof msg, "moat-agent: exec %s: %s\n", spec->argv[0], strerror(err));
  if (n > 0) write_all_raw(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
  child_fail(status_fd, STAGE_EXEC, err);
}

static void close_if(int fd) {
  if (fd >= 0) close(fd);
}

int spawn_resize(int pty_fd, uint16_t rows, uint16_t cols) {
  struct winsize ws = {.ws_row = rows, .ws_col = cols};
  return ioctl(pty_fd, TIOCSWINSZ, &ws) == 0 ? 0 : -errno;
}

static int open_pty(const struct spawn_spec *spec, int *master, char *slave, size_t slave_len) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return -errno;
  if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, slave, slave_len) != 0) {
    int e = errno;
    close(m);
    return -e;
  }
  uint16_t rows = spec->rows ? spec->rows : 24, cols = spec->cols ? spec->cols : 80;
  spawn_resize(m, rows, cols);
  *master = m;
  return 0;
}

int spawn_process(const struct spawn_spec *spec, struct spawned *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->stdin_fd = out->stdout_fd = out->stderr_fd = -1;
  if (!spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
    snprintf(err, errlen, "exec: argv is empty: name the program to run in argv[0]");
    return -EINVAL;
  }
  int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1}, st[2] = {-1, -1};
  int master = -1;
  char slave[64] = "";
  int rc = 0;
  if (pipe2(st, O_CLOEXEC) != 0) goto sys_fail;
  if (spec->tty) {
    rc = open_pty(spec, &master, slave, sizeof slave);
    if (rc < 0) {
      snprintf(err, errlen, "open pseudo terminal: %s (is devpts mounted on /dev/pts?)", strerror(-rc));
      goto fail;
    }
  } else if (pipe2(in, O_CLOEXEC) != 0 || pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0) {
    goto sys_fail;
  }
  char *candidates = path_candidates(spec->argv[0], env_path(spec->envp));
  pid_t pid = fork();
  if (pid < 0) {
    free(candidates);
    goto sys_fail;
  }
  if (pid == 0) child_main(spec, st[1], in[0], o[1], e[1], spec->tty ? slave : NULL, candidates);
  free(candidates);
  close(st[1]);
  st[1] = -1;
  close_if(in[0]);
  close_if(o[1]);
  close_if(e[1]);
  struct child_status status = {0, 0};
  ssize_t n;
  do n = read(st[0], &status, sizeof status);
  while (n < 0 && errno == EINTR);
  close(st[0]);
  out->pid = pid;
  if (n == (ssize_t)sizeof status && status.stage != STAGE_EXEC) {
    snprintf(err, errlen, "%s %s: %s", stage_name(status.stage),
             status.stage == STAGE_CWD ? spec->cwd : status.stage == STAGE_USER ? "uid/gid" : slave,
             strerror(status.err));
    close_if(in[1]);
    close_if(o[0]);
    close_if(e[0]);
    close_if(master);
    return -status.err;
  }
  if (n == (ssize_t)sizeof status) out->exec_errno = status.err;
  if (spec->tty) {
    out->stdin_fd = master;
    out->stdout_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
  } else if (spec->stdin_null) {
    close(in[1]);
    out->stdout_fd = o[0];
    out->stderr_fd = e[0];
  } else {
    out->stdin_fd = in[1];
    out->stdout_fd = o[0];
    out->stderr_fd = e[0];
  }
  return 0;

sys_fail:
  rc = -errno;
  snprintf(err, errlen, "start process %s: %s", spec->argv[0], strerror(errno));
fail:
  close_if(in[0]); close_if(in[1]); close_if(o[0]); close_if(o[1]);
  close_if(e[0]); close_if(e[1]); close_if(st[0]); close_if(st[1]); close_if(master);
  return rc;
}
