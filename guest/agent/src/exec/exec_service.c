/**
 * Exec streams (see exec_service.h).
 *
 * Output: a pipe (or the pty master) is read only while the stream has room to send (credit from
 * the host and space in the connection's buffer); otherwise its EPOLLIN is switched off, the pipe
 * fills and the child blocks in write(2). Memory per exec therefore stays at one chunk.
 *
 * Input: stdin chunks are written to the child without blocking; what the pipe does not take waits
 * in a queue bounded by the credit the agent granted, and credit is returned (WINDOW) only once
 * the bytes are in the pipe.
 *
 * Exit: reported after the process has been reaped and its stdout/stderr reached end-of-file. A
 * background process that keeps the pipes open does not hold the exit back forever: once the
 * process has exited and the pipes have stayed empty for DRAIN_GRACE_MS, they are closed.
 */
#include "exec_service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../agent.h"
#include "../core/log.h"
#include "spawn.h"

#define DRAIN_GRACE_MS 200
#define CHUNK_OVERHEAD 16u /* StreamMessage + Chunk tags and lengths around the data */
#define MIN_READ 256u

extern char **environ;

struct stdin_chunk {
  struct stdin_chunk *next;
  size_t len, off;
  uint32_t wire_len;
  uint8_t data[];
};

struct exec_stream {
  struct stream base;
  struct exec_stream *live_next;
  pid_t pid;
  bool live, reaped, tty, exit_sent, signal_after_exit, stdin_eof, stdin_closed;
  int status, late_signal;
  struct watch in_w, out_w, err_w;
  struct stdin_chunk *q_head, *q_tail;
  struct timer drain;
};

static struct exec_stream *live_execs;
static pb_bytes_array_t *scratch;

static void try_send_exit(struct exec_stream *e);
static void pump_stdin(struct exec_stream *e);

size_t exec_stream_size(void) { return sizeof(struct exec_stream); }

unsigned exec_live_count(void) {
  unsigned n = 0;
  for (struct exec_stream *e = live_execs; e; e = e->live_next) n += !e->reaped;
  return n;
}

static void close_watch(struct watch *w) {
  if (w->fd < 0) return;
  loop_unwatch(&agent.loop, w);
  close(w->fd);
  w->fd = -1;
}

static void unlink_live(struct exec_stream *e) {
  if (!e->live) return;
  for (struct exec_stream **pp = &live_execs; *pp; pp = &(*pp)->live_next)
    if (*pp == e) {
      *pp = e->live_next;
      break;
    }
  e->live = false;
}

static void drop_stdin_queue(struct exec_stream *e, bool credit) {
  while (e->q_head) {
    struct stdin_chunk *c = e->q_head;
    e->q_head = c->next;
    if (credit) stream_consumed(&e->base, c->wire_len);
    free(c);
  }
  e->q_tail = NULL;
}

static void exec_destroy(struct stream *s) {
  struct exec_stream *e = (struct exec_stream *)s;
  if (!e->reaped && e->pid > 0) kill(-e->pid, SIGKILL);
  unlink_live(e);
  timer_cancel(&e->drain);
  close_watch(&e->in_w);
  close_watch(&e->out_w);
  close_watch(&e->err_w);
  drop_stdin_queue(e, false);
}

/* ---- output ---- */

static void set_output_reading(struct exec_stream *e, bool on) {
  if (e->out_w.fd >= 0) loop_watch(&agent.loop, &e->out_w, on ? EPOLLIN : 0);
  if (e->err_w.fd >= 0) loop_watch(&agent.loop, &e->err_w, on ? EPOLLIN : 0);
}

static void output_eof(struct exec_stream *e, struct watch *w) {
  close_watch(w);
  try_send_exit(e);
}

static void on_output(struct watch *w, uint32_t events) {
  struct exec_stream *e = w->ctx;
  (void)events;
  uint32_t room = stream_send_room(&e->base);
  if (room < MIN_READ + CHUNK_OVERHEAD) {
    set_output_reading(e, false);
    stream_wait_writable(&e->base);
    return;
  }
  size_t want = room - CHUNK_OVERHEAD;
  if (want > MOAT_RPC_MAX_CHUNK) want = MOAT_RPC_MAX_CHUNK;
  ssize_t n = read(w->fd, scratch->bytes, want);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) { /* EOF, or EIO from a pty whose last slave closed */
    output_eof(e, w);
    return;
  }
  scratch->size = (pb_size_t)n;
  moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
  if (w == &e->err_w) {
    msg.which_body = moat_rpc_v1_StreamMessage_stderr_data_tag;
    msg.body.stderr_data.data = scratch;
  } else {
    msg.which_body = moat_rpc_v1_StreamMessage_stdout_data_tag;
    msg.body.stdout_data.data = scratch;
  }
  stream_send(&e->base, &msg, false);
  if (e->reaped && e->drain.armed) timer_arm(&e->drain, DRAIN_GRACE_MS);
}

static void exec_on_writable(struct stream *s) {
  struct exec_stream *e = (struct exec_stream *)s;
  if (!e->exit_sent) set_output_reading(e, true);
  try_send_exit(e);
}

static size_t pending_bytes(int fd) {
  int n = 0;
  if (fd < 0 || ioctl(fd, FIONREAD, &n) != 0 || n < 0) return 0;
  return (size_t)n;
}

/* After the process exited: close pipes that stay empty (held open by a background process). */
static void on_drain_timer(struct timer *t) {
  struct exec_stream *e = t->ctx;
  if (pending_bytes(e->out_w.fd) > 0 || pending_bytes(e->err_w.fd) > 0) {
    timer_arm(&e->drain, DRAIN_GRACE_MS);
    return;
  }
  if (e->out_w.fd >= 0 || e->err_w.fd >= 0)
    log_debug("exec pid %d: output still held open after exit (background process?); closing it", (int)e->pid);
  close_watch(&e->out_w);
  close_watch(&e->err_w);
  try_send_exit(e);
}

static void try_send_exit(struct exec_stream *e) {
  if (e->exit_sent || !e->reaped || e->out_w.fd >= 0 || e->err_w.fd >= 0 || e->base.finished) return;
  moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
  msg.which_body = moat_rpc_v1_StreamMessage_exit_tag;
  if (WIFSIGNALED(e->status)) {
    msg.body.exit.which_status = moat_rpc_v1_ExecExit_signal_tag;
    msg.body.exit.status.signal = WTERMSIG(e->status);
    msg.body.exit.core_dumped = WCOREDUMP(e->status);
  } else {
    msg.body.exit.which_status = moat_rpc_v1_ExecExit_code_tag;
    msg.body.exit.status.code = WEXITSTATUS(e->status);
  }
  int rc = stream_send(&e->base, &msg, true);
  if (rc == -EAGAIN) {
    stream_wait_writable(&e->base);
    return;
  }
  e->exit_sent = true;
  timer_cancel(&e->drain);
  close_watch(&e->in_w);
  if (e->signal_after_exit && !e->base.finished)
    stream_reset(&e->base, moat_rpc_v1_ErrorCode_ERROR_CODE_NOT_FOUND, ESRCH,
                 "signal %d: process %d has already exited", e->late_signal, (int)e->pid);
}

static void on_process_exit(struct exec_stream *e, int status) {
  e->reaped = true;
  e->status = status;
  unlink_live(e);
  if (e->out_w.fd >= 0 || e->err_w.fd >= 0) timer_arm(&e->drain, DRAIN_GRACE_MS);
  try_send_exit(e);
}

void exec_reap_children(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (struct exec_stream *e = live_execs; e; e = e->live_next)
      if (e->pid == pid) {
        on_process_exit(e, status);
        break;
      }
  }
}

void exec_kill_all(void) {
  for (struct exec_stream *e = live_execs; e; e = e->live_next)
    if (!e->reaped) kill(-e->pid, SIGKILL);
}

/* ---- input ---- */

static void close_stdin(struct exec_stream *e) {
  if (e->in_w.fd < 0 || e->stdin_closed) return;
  e->stdin_closed = true;
  if (e->tty) {
    /* The pty master stays open (it is also the output); end-of-file is the terminal's EOF
     * character at the start of a line. */
    static const char eof = 4;
    ssize_t ignored = write(e->in_w.fd, &eof, 1);
    (void)ignored;
    loop_unwatch(&agent.loop, &e->in_w);
    return;
  }
  close_watch(&e->in_w);
}

static void pump_stdin(struct exec_stream *e) {
  while (e->q_head && e->in_w.fd >= 0) {
    struct stdin_chunk *c = e->q_head;
    ssize_t n = write(e->in_w.fd, c->data + c->off, c->len - c->off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      loop_watch(&agent.loop, &e->in_w, EPOLLOUT);
      return;
    }
    if (n < 0) { /* EPIPE: the process closed its stdin; the rest is discarded */
      drop_stdin_queue(e, true);
      close_watch(&e->in_w);
      return;
    }
    c->off += (size_t)n;
    if (c->off < c->len) continue;
    e->q_head = c->next;
    if (!e->q_head) e->q_tail = NULL;
    stream_consumed(&e->base, c->wire_len);
    free(c);
  }
  if (e->in_w.fd >= 0) loop_unwatch(&agent.loop, &e->in_w);
  if (!e->q_head && e->stdin_eof) close_stdin(e);
  if (!e->q_head && e->in_w.fd < 0) drop_stdin_queue(e, true);
}

static void on_stdin_writable(struct watch *w, uint32_t events) {
  (void)events;
  pump_stdin(w->ctx);
}

static void queue_stdin(struct exec_stream *e, const pb_bytes_array_t *data, uint32_t wire_len) {
  size_t len = data ? data->size : 0;
  if (e->in_w.fd < 0 || e->stdin_eof || len == 0) {
    stream_consumed(&e->base, wire_len);
    return;
  }
  struct stdin_chunk *c = malloc(sizeof *c + len);
  if (!c) {
    stream_reset(&e->base, moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED, ENOMEM, "stdin: agent out of memory");
    return;
  }
  c->next = NULL;
  c->len = len;
  c->off = 0;
  c->wire_len = wire_len;
  memcpy(c->data, data->bytes, len);
  if (e->q_tail) e->q_tail->next = c;
  else e->q_head = c;
  e->q_tail = c;
  pump_stdin(e);
}

static void deliver_signal(struct exec_stream *e, int sig) {
  if (e->reaped) {
    e->late_signal = sig;
    if (e->exit_sent)
      stream_reset(&e->base, moat_rpc_v1_ErrorCode_ERROR_CODE_NOT_FOUND, ESRCH,
                   "signal %d: process %d has already exited", sig, (int)e->pid);
    else
      e->signal_after_exit = true; /* answered right after the exit status */
    return;
  }
  if (sig <= 0 || sig >= 65) {
    stream_reset(&e->base, moat_rpc_v1_ErrorCode_ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                 "signal %d: not a Linux signal number (1-64)", sig);
    return;
  }
  if (kill(-e->pid, sig) != 0 && kill(e->pid, sig) != 0)
    log_debug("signal %d to pid %d: %s", sig, (int)e->pid, strerror(errno));
}

/* The host's stdin ended (StdinEof, or its CLOSE): the pipe closes once the queued chunks are written. */
static void end_stdin(struct exec_stream *e) {
  e->stdin_eof = true;
  if (!e->q_head) close_stdin(e);
}

static void exec_on_message(struct stream *s, moat_rpc_v1_StreamMessage *msg, uint32_t wire_len) {
  struct exec_stream *e = (struct exec_stream *)s;
  switch (msg->which_body) {
    case moat_rpc_v1_StreamMessage_stdin_data_tag:
      queue_stdin(e, msg->body.stdin_data.data, wire_len);
      return;
    case moat_rpc_v1_StreamMessage_resize_tag:
      if (e->tty && !e->reaped && e->in_w.fd >= 0) {
        uint32_t rows = msg->body.resize.rows, cols = msg->body.resize.cols;
        spawn_resize(e->in_w.fd, rows > 0 && rows < 65536 ? (uint16_t)rows : 24, cols > 0 && cols < 65536 ? (uint16_t)cols : 80);
      }
      stream_consumed(s, wire_len);
      return;
    case moat_rpc_v1_StreamMessage_signal_tag:
      stream_consumed(s, wire_len);
      deliver_signal(e, msg->body.signal.number);
      return;
    case moat_rpc_v1_StreamMessage_stdin_eof_tag: /* EOF without CLOSE: signals and resizes may follow */
      stream_consumed(s, wire_len);
      end_stdin(e);
      return;
    default:
      stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0,
                   "exec stream %u: message kind %u is not one the host sends on exec", s->id, (unsigned)msg->which_body);
  }
}

static void exec_on_remote_close(struct stream *s) {
  end_stdin((struct exec_stream *)s);
}

static const struct stream_ops exec_ops = {
    .on_message = exec_on_message,
    .on_remote_close = exec_on_remote_close,
    .on_writable = exec_on_writable,
    .destroy = exec_destroy,
};

/* ---- open ---- */

static bool env_key_eq(const char *a, const char *b) {
  while (*a && *a != '=' && *a == *b) a++, b++;
  return (*a == '=' || !*a) && (*b == '=' || !*b);
}

/* Base environment overlaid with the request's "KEY=VALUE" entries (later wins). */
static char **build_env(moat_rpc_v1_ExecRequest *req) {
  size_t base = 0;
  while (environ && environ[base]) base++;
  char **env = calloc(base + req->env_count + 1, sizeof *env);
  if (!env) return NULL;
  size_t n = 0;
  for (size_t i = 0; i < base; i++) {
    bool overridden = false;
    for (pb_size_t j = 0; j < req->env_count && !overridden; j++) overridden = env_key_eq(environ[i], req->env[j]);
    if (!overridden) env[n++] = environ[i];
  }
  for (pb_size_t j = 0; j < req->env_count; j++) {
    bool later = false;
    for (pb_size_t k = j + 1; k < req->env_count && !later; k++) later = env_key_eq(req->env[j], req->env[k]);
    if (!later) env[n++] = req->env[j];
  }
  env[n] = NULL;
  return env;
}

void exec_open(struct stream *s, moat_rpc_v1_ExecRequest *req) {
  struct exec_stream *e = (struct exec_stream *)s;
  s->ops = &exec_ops;
  e->in_w.fd = e->out_w.fd = e->err_w.fd = -1;
  timer_init(&e->drain, on_drain_timer, e);
  if (!scratch && !(scratch = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(MOAT_RPC_MAX_CHUNK)))) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED, ENOMEM, "exec: agent out of memory");
    return;
  }
  if (req->argv_count == 0 || !req->argv[0] || !req->argv[0][0]) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                 "exec: argv is empty: name the program to run in argv[0]");
    return;
  }
  for (pb_size_t j = 0; j < req->env_count; j++)
    if (!req->env[j] || !strchr(req->env[j], '=') || req->env[j][0] == '=') {
      stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                   "exec: env entry \"%s\" is not KEY=VALUE", req->env[j] ? req->env[j] : "");
      return;
    }
  if (req->tty && (req->rows > 65535 || req->cols > 65535)) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                 "exec: terminal size %ux%u is out of range (1-65535)", req->rows, req->cols);
    return;
  }
  char **argv = calloc(req->argv_count + 1, sizeof *argv);
  char **envp = build_env(req);
  if (!argv || !envp) {
    free(argv);
    free(envp);
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED, ENOMEM, "exec: agent out of memory");
    return;
  }
  memcpy(argv, req->argv, req->argv_count * sizeof *argv);
  struct spawn_spec spec = {
      .argv = argv,
      .envp = envp,
      .cwd = req->cwd && req->cwd[0] ? req->cwd : "/",
      .set_user = req->has_uid || req->has_gid,
      .uid = req->has_uid ? req->uid : 0,
      .gid = req->has_gid ? req->gid : 0,
      .tty = req->tty,
      .stdin_null = !req->stdin_open,
      .rows = (uint16_t)req->rows,
      .cols = (uint16_t)req->cols,
  };
  struct spawned sp;
  char err[512];
  int rc = spawn_process(&spec, &sp, err, sizeof err);
  free(argv);
  free(envp);
  if (rc < 0) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_SPAWN_FAILED, -rc, "%s", err);
    return;
  }
  e->pid = sp.pid;
  e->tty = req->tty;
  e->live = true;
  e->live_next = live_execs;
  live_execs = e;
  if (sp.exec_errno) log_debug("exec %s: %s (exit %d)", req->argv[0], strerror(sp.exec_errno), sp.exec_errno == ENOENT ? 127 : 126);
  watch_init(&e->in_w, sp.stdin_fd, on_stdin_writable, e);
  watch_init(&e->out_w, sp.stdout_fd, on_output, e);
  watch_init(&e->err_w, sp.stderr_fd, on_output, e);
  fcntl(sp.stdout_fd, F_SETFL, O_NONBLOCK);
  if (sp.stderr_fd >= 0) fcntl(sp.stderr_fd, F_SETFL, O_NONBLOCK);
  if (sp.stdin_fd >= 0 && !e->tty) fcntl(sp.stdin_fd, F_SETFL, O_NONBLOCK);
  moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
  msg.which_body = moat_rpc_v1_StreamMessage_started_tag;
  msg.body.started.pid = (uint32_t)sp.pid;
  stream_send(s, &msg, false); /* always fits: a fresh stream has a full window */
  set_output_reading(e, true);
  if (!req->stdin_open) {
    e->stdin_eof = true;
    if (!e->tty) close_watch(&e->in_w);
  }
}
