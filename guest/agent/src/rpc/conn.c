/**
 * RPC connection implementation (see conn.h). Reading: bytes go through the shared incremental
 * decoder (moat_rpc_decoder_feed) frame by frame; each frame is checked against PROTOCOL.md (HELLO
 * first, stream id rules, credit) before a service sees it. Writing: frames are encoded straight
 * into the outgoing buffer and flushed; while that buffer is above OUT_HIGH, streams get no room
 * and input is paused above OUT_PAUSE, so a host that stops reading bounds the agent's memory.
 */
#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/log.h"
#include "../version.h"

#define OUT_HIGH (512u * 1024u)
#define OUT_LOW (128u * 1024u)
#define OUT_PAUSE (2u * 1024u * 1024u)
#define RECONNECT_POLL_MS 100

static struct loop *conn_loop;
static struct conn *all_conns;

struct conn *conn_list(void) { return all_conns; }

/* ---- streams table ---- */

static struct stream *stream_find(struct conn *c, uint32_t id) {
  for (struct stream *s = c->buckets[id & 255]; s; s = s->hash_next)
    if (s->id == id) return s;
  return NULL;
}

static void stream_free_mem(void *p) { free(p); }

static void stream_finish(struct stream *s) {
  if (s->finished) return;
  s->finished = true;
  struct conn *c = s->conn;
  struct stream **pp = &c->buckets[s->id & 255];
  while (*pp && *pp != s) pp = &(*pp)->hash_next;
  if (*pp) *pp = s->hash_next;
  if (s->prev) s->prev->next = s->next;
  else c->streams = s->next;
  if (s->next) s->next->prev = s->prev;
  c->nstreams--;
  timer_cancel(&s->deadline);
  if (s->ops && s->ops->destroy) s->ops->destroy(s);
  loop_defer_free(conn_loop, stream_free_mem, s);
}

static void maybe_finish(struct stream *s) {
  if (!s->finished && s->local_closed && s->remote_closed) stream_finish(s);
}

/* ---- output ---- */

static void conn_fail(struct conn *c, const char *why);

static void conn_update_watch(struct conn *c) {
  if (c->w.fd < 0) return;
  uint32_t ev = 0;
  if (!c->input_paused && !c->closing) ev |= EPOLLIN;
  if (bytebuf_len(&c->out) > 0) ev |= EPOLLOUT;
  if (ev == 0) ev = EPOLLOUT; /* keep HUP/ERR reporting while closing with nothing to send */
  loop_watch(conn_loop, &c->w, ev);
}

static void wake_blocked(struct conn *c) {
  for (struct stream *s = c->streams; s; s = s->next) {
    if (bytebuf_len(&c->out) >= OUT_HIGH) break;
    if (s->blocked && !s->finished && s->send_credit > 0) {
      s->blocked = false;
      if (s->ops->on_writable) s->ops->on_writable(s);
    }
  }
}

/* Writes as much as the fd takes. Returns -1 when the connection failed (and was closed). */
static int conn_flush(struct conn *c) {
  size_t before = bytebuf_len(&c->out);
  while (bytebuf_len(&c->out) > 0) {
    ssize_t n = write(c->w.fd, bytebuf_peek(&c->out), bytebuf_len(&c->out));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      conn_fail(c, strerror(errno));
      return -1;
    }
    bytebuf_consume(&c->out, (size_t)n);
  }
  size_t after = bytebuf_len(&c->out);
  if (c->closing && after == 0) {
    conn_fail(c, "closed after a fatal error");
    return -1;
  }
  if (c->input_paused && after < OUT_LOW) c->input_paused = false;
  conn_update_watch(c);
  if (before >= OUT_LOW && after < OUT_LOW) wake_blocked(c);
  return 0;
}

static int send_frame(struct conn *c, uint32_t id, uint8_t type, uint8_t flags,
                      const pb_msgdesc_t *desc, const void *msg) {
  if (c->w.fd < 0 || c->closing) return -EPIPE;
  size_t len = 0;
  if (desc && !pb_get_encoded_size(&len, desc, msg)) return -EINVAL;
  uint8_t *dst = bytebuf_reserve(&c->out, MOAT_RPC_HEADER_SIZE + len);
  if (!dst) return -ENOMEM;
  long n = moat_rpc_frame_encode(dst, MOAT_RPC_HEADER_SIZE + len, id, type, flags, desc, msg);
  if (n < 0) {
    log_error("encode frame type %u: codec error %ld", type, n);
    return -EINVAL;
  }
  bytebuf_commit(&c->out, (size_t)n);
  if (bytebuf_len(&c->out) > OUT_PAUSE) c->input_paused = true;
  conn_flush(c);
  return 0;
}

static void send_reset_raw(struct conn *c, uint32_t id, moat_rpc_v1_ErrorCode code, int err, char *message) {
  moat_rpc_v1_Reset r = {code, message, err};
  send_frame(c, id, MOAT_RPC_RESET, 0, moat_rpc_v1_Reset_fields, &r);
}

static void send_error(struct conn *c, moat_rpc_v1_ErrorCode code, uint32_t type, uint32_t id,
                       bool fatal, char *message) {
  log_warn("rpc: %s%s", message, fatal ? " (closing the connection)" : "");
  moat_rpc_v1_ConnError e = {code, message, type, id, fatal};
  send_frame(c, 0, MOAT_RPC_ERROR, 0, moat_rpc_v1_ConnError_fields, &e);
  if (fatal && !c->closed) {
    c->closing = true;
    if (bytebuf_len(&c->out) == 0) conn_fail(c, message);
    else conn_update_watch(c);
  }
}

/* ---- stream API for services ---- */

uint32_t stream_send_room(const struct stream *s) {
  if (s->finished || s->local_closed || s->conn->closing || bytebuf_len(&s->conn->out) >= OUT_HIGH) return 0;
  int64_t room = s->send_credit;
  if (room > (int64_t)s->conn->peer_max_payload) room = s->conn->peer_max_payload;
  return room > 0 ? (uint32_t)room : 0;
}

int stream_send(struct stream *s, const moat_rpc_v1_StreamMessage *msg, bool fin) {
  if (s->finished || s->local_closed) return -EPIPE;
  size_t len = 0;
  if (!pb_get_encoded_size(&len, moat_rpc_v1_StreamMessage_fields, msg)) return -EINVAL;
  if (len > stream_send_room(s)) return -EAGAIN;
  s->send_credit -= (int64_t)len;
  int rc = send_frame(s->conn, s->id, MOAT_RPC_DATA, fin ? MOAT_RPC_FLAG_FIN : 0,
                      moat_rpc_v1_StreamMessage_fields, msg);
  if (rc == 0 && fin && !s->finished) {
    s->local_closed = true;
    timer_cancel(&s->deadline); /* the work is done; only the host's half-close is missing */
    maybe_finish(s);
  }
  return rc;
}

void stream_close(struct stream *s) {
  if (s->finished || s->local_closed) return;
  s->local_closed = true;
  timer_cancel(&s->deadline);
  send_frame(s->conn, s->id, MOAT_RPC_CLOSE, 0, NULL, NULL);
  maybe_finish(s);
}

void stream_reset(struct stream *s, moat_rpc_v1_ErrorCode code, int err, const char *fmt, ...) {
  if (s->finished) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_debug("stream %u: reset: %s", s->id, msg);
  send_reset_raw(s->conn, s->id, code, err, msg);
  stream_finish(s);
}

moat_rpc_v1_ErrorCode error_code_for_errno(int err) {
  switch (err) {
    case ENOENT: case ESRCH: case ENXIO: case ENODEV: return moat_rpc_v1_ErrorCode_ERROR_CODE_NOT_FOUND;
    case EACCES: case EPERM: case EROFS: return moat_rpc_v1_ErrorCode_ERROR_CODE_PERMISSION_DENIED;
    case EEXIST: return moat_rpc_v1_ErrorCode_ERROR_CODE_ALREADY_EXISTS;
    case EISDIR: return moat_rpc_v1_ErrorCode_ERROR_CODE_IS_A_DIRECTORY;
    case ENOTDIR: return moat_rpc_v1_ErrorCode_ERROR_CODE_NOT_A_DIRECTORY;
    case ENOTEMPTY: return moat_rpc_v1_ErrorCode_ERROR_CODE_NOT_EMPTY;
    case ENOSPC: case EDQUOT: case ENOMEM: case EMFILE: case ENFILE: case EAGAIN: case EFBIG:
      return moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED;
    case EINVAL: case ENAMETOOLONG: case ELOOP: case EBADF: case EXDEV:
      return moat_rpc_v1_ErrorCode_ERROR_CODE_INVALID_ARGUMENT;
    default: return moat_rpc_v1_ErrorCode_ERROR_CODE_INTERNAL;
  }
}

void stream_reset_errno(struct stream *s, int err, const char *what) {
  stream_reset(s, error_code_for_errno(err), err, "%s: %s", what, strerror(err));
}

void stream_consumed(struct stream *s, uint32_t n) {
  if (s->finished) return;
  s->recv_unacked += n;
  if (s->remote_closed || s->recv_unacked < AGENT_WINDOW / 2) return;
  moat_rpc_v1_WindowUpdate w = {s->recv_unacked};
  s->recv_credit += s->recv_unacked;
  s->recv_unacked = 0;
  send_frame(s->conn, s->id, MOAT_RPC_WINDOW, 0, moat_rpc_v1_WindowUpdate_fields, &w);
}

void stream_wait_writable(struct stream *s) { s->blocked = true; }

/* ---- incoming frames ---- */

static void on_deadline(struct timer *t) {
  struct stream *s = t->ctx;
  stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_DEADLINE_EXCEEDED, 0,
               "call exceeded its deadline of %u ms (Open.timeout_ms)", s->timeout_ms);
}

static void session_reset(struct conn *c) {
  while (c->streams) stream_finish(c->streams);
  c->hello_done = false;
  c->highest_peer_id = 0;
  c->closing = false;
  c->input_paused = false;
}

static void handle_hello(struct conn *c, const struct moat_rpc_frame *f) {
  moat_rpc_v1_Hello h = moat_rpc_v1_Hello_init_zero;
  char msg[256];
  if (moat_rpc_payload_decode(f, moat_rpc_v1_Hello_fields, &h) != MOAT_RPC_OK) {
    send_error(c, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, f->header.type, 0, true,
               "HELLO payload is not a valid moat.rpc.v1.Hello message");
    return;
  }
  uint32_t peer_max = h.max_protocol_version, peer_min = h.min_protocol_version;
  uint32_t payload = h.max_frame_payload ? h.max_frame_payload : MOAT_RPC_DEFAULT_MAX_PAYLOAD;
  uint32_t window = h.initial_window ? h.initial_window : MOAT_RPC_DEFAULT_WINDOW;
  pb_release(moat_rpc_v1_Hello_fields, &h);
  if (moat_rpc_negotiate_version(MOAT_RPC_PROTOCOL_VERSION, MOAT_RPC_PROTOCOL_VERSION, peer_min, peer_max) == 0) {
    snprintf(msg, sizeof msg, "host speaks protocol %u..%u, agent speaks %u..%u: update the %s", peer_min,
             peer_max, MOAT_RPC_PROTOCOL_VERSION, MOAT_RPC_PROTOCOL_VERSION,
             peer_min > MOAT_RPC_PROTOCOL_VERSION ? "guest image" : "host (moat)");
    send_error(c, moat_rpc_v1_ErrorCode_ERROR_CODE_VERSION_MISMATCH, f->header.type, 0, true, msg);
    return;
  }
  if (window < payload) {
    snprintf(msg, sizeof msg, "HELLO initial_window %u is smaller than its max_frame_payload %u", window, payload);
    send_error(c, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, f->header.type, 0, true, msg);
    return;
  }
  if (c->hello_done) {
    log_info("rpc: new HELLO on an established session: ending its %u streams", c->nstreams);
    session_reset(c);
  }
  c->peer_max_payload = payload > MOAT_RPC_HARD_MAX_PAYLOAD ? MOAT_RPC_HARD_MAX_PAYLOAD : payload;
  c->peer_window = window > MOAT_RPC_MAX_CREDIT ? MOAT_RPC_MAX_CREDIT : window;
  c->hello_done = true;
  static char *caps[] = {"exec", "exec.tty", "exec.stdin_eof", "files", "health", "shutdown"};
  moat_rpc_v1_Hello reply = moat_rpc_v1_Hello_init_zero;
  reply.max_protocol_version = reply.min_protocol_version = MOAT_RPC_PROTOCOL_VERSION;
  reply.software_version = "moat-agent/" MOAT_AGENT_VERSION;
  reply.capabilities = caps;
  reply.capabilities_count = sizeof caps / sizeof caps[0];
  reply.max_frame_payload = AGENT_MAX_PAYLOAD;
  reply.initial_window = AGENT_WINDOW;
  reply.role = moat_rpc_v1_Role_ROLE_GUEST;
  send_frame(c, 0, MOAT_RPC_HELLO, 0, moat_rpc_v1_Hello_fields, &reply);
}

static void handle_open(struct conn *c, const struct moat_rpc_frame *f) {
  uint32_t id = f->header.stream_id;
  char msg[256];
  if (id % 2 == 0 || id <= c->highest_peer_id) {
    snprintf(msg, sizeof msg, "OPEN stream id %u: the host must open odd ids above %u", id, c->highest_peer_id);
    send_reset_raw(c, id, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0, msg);
    return;
  }
  c->highest_peer_id = id;
  moat_rpc_v1_Open *open = calloc(1, sizeof *open);
  if (!open) {
    send_reset_raw(c, id, moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED, ENOMEM, "agent out of memory");
    return;
  }
  if (moat_rpc_payload_decode(f, moat_rpc_v1_Open_fields, open) != MOAT_RPC_OK) {
    snprintf(msg, sizeof msg, "OPEN stream %u: payload (%u bytes) is not a valid moat.rpc.v1.Open", id, f->header.length);
    send_reset_raw(c, id, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0, msg);
    free(open);
    return;
  }
  size_t size = services_stream_size(open->which_call);
  struct stream *s = NULL;
  if (size == 0) {
    snprintf(msg, sizeof msg, "OPEN stream %u: call %u is not implemented by this agent", id, (unsigned)open->which_call);
    send_reset_raw(c, id, moat_rpc_v1_ErrorCode_ERROR_CODE_UNIMPLEMENTED, 0, msg);
  } else if (c->nstreams >= AGENT_MAX_STREAMS) {
    snprintf(msg, sizeof msg, "OPEN stream %u: too many open streams (limit %u)", id, AGENT_MAX_STREAMS);
    send_reset_raw(c, id, moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED, 0, msg);
  } else if (!(s = calloc(1, size))) {
    send_reset_raw(c, id, moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED, ENOMEM, "agent out of memory");
  }
  if (s) {
    s->conn = c;
    s->id = id;
    s->send_credit = c->peer_window;
    s->recv_credit = AGENT_WINDOW;
    s->hash_next = c->buckets[id & 255];
    c->buckets[id & 255] = s;
    s->next = c->streams;
    if (c->streams) c->streams->prev = s;
    c->streams = s;
    c->nstreams++;
    timer_init(&s->deadline, on_deadline, s);
    if (open->timeout_ms) {
      s->timeout_ms = open->timeout_ms;
      timer_arm(&s->deadline, open->timeout_ms);
    }
    services_open(s, open);
    if (!s->finished && (f->header.flags & MOAT_RPC_FLAG_FIN)) {
      s->remote_closed = true;
      if (s->ops->on_remote_close) s->ops->on_remote_close(s);
      maybe_finish(s);
    }
  }
  pb_release(moat_rpc_v1_Open_fields, open);
  free(open);
}

/* Looks up the stream of a DATA/CLOSE/WINDOW frame; answers ids that were never opened. */
static struct stream *stream_for(struct conn *c, const struct moat_rpc_frame *f) {
  uint32_t id = f->header.stream_id;
  struct stream *s = stream_find(c, id);
  if (s) return s;
  if (id > c->highest_peer_id || id % 2 == 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s for stream %u, which was never opened", moat_rpc_frame_type_name(f->header.type), id);
    send_reset_raw(c, id, moat_rpc_v1_ErrorCode_ERROR_CODE_UNKNOWN_STREAM, 0, msg);
  }
  return NULL; /* finished streams: dropped silently */
}

static void handle_remote_close(struct stream *s) {
  if (s->remote_closed) return;
  s->remote_closed = true;
  if (s->ops->on_remote_close) s->ops->on_remote_close(s);
  maybe_finish(s);
}

static void handle_data(struct conn *c, const struct moat_rpc_frame *f) {
  struct stream *s = stream_for(c, f);
  if (!s) return;
  uint32_t n = f->header.length;
  if (s->remote_closed) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0, "DATA on stream %u after the host closed it", s->id);
    return;
  }
  if (n > s->recv_credit) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_FLOW_CONTROL, 0,
                 "DATA of %u bytes on stream %u exceeds the remaining credit of %u bytes", n, s->id, s->recv_credit);
    return;
  }
  s->recv_credit -= n;
  moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
  if (moat_rpc_payload_decode(f, moat_rpc_v1_StreamMessage_fields, &msg) != MOAT_RPC_OK) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0,
                 "DATA on stream %u: payload is not a valid moat.rpc.v1.StreamMessage", s->id);
    return;
  }
  if (msg.which_body == 0) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_UNIMPLEMENTED, 0,
                 "DATA on stream %u carries a message kind this agent does not know", s->id);
  } else {
    s->ops->on_message(s, &msg, n);
  }
  pb_release(moat_rpc_v1_StreamMessage_fields, &msg);
  if (!s->finished && (f->header.flags & MOAT_RPC_FLAG_FIN)) handle_remote_close(s);
}

static void handle_window(struct conn *c, const struct moat_rpc_frame *f) {
  if (f->header.stream_id == 0) return;
  struct stream *s = stream_for(c, f);
  if (!s) return;
  moat_rpc_v1_WindowUpdate w = moat_rpc_v1_WindowUpdate_init_zero;
  if (moat_rpc_payload_decode(f, moat_rpc_v1_WindowUpdate_fields, &w) != MOAT_RPC_OK || w.increment == 0) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0, "WINDOW on stream %u: increment must be > 0", s->id);
    return;
  }
  if (s->send_credit + (int64_t)w.increment > (int64_t)MOAT_RPC_MAX_CREDIT) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_FLOW_CONTROL, 0,
                 "WINDOW on stream %u: credit would exceed 2^31-1", s->id);
    return;
  }
  s->send_credit += w.increment;
  if (s->blocked && !s->local_closed) {
    s->blocked = false;
    if (s->ops->on_writable) s->ops->on_writable(s);
  }
}

static void handle_frame(struct conn *c, const struct moat_rpc_frame *f) {
  uint8_t type = f->header.type;
  char msg[160];
  if (!moat_rpc_frame_type_known(type)) {
    snprintf(msg, sizeof msg, "unknown frame type %u on stream %u (skipped)", type, f->header.stream_id);
    send_error(c, moat_rpc_v1_ErrorCode_ERROR_CODE_UNKNOWN_FRAME_TYPE, type, f->header.stream_id, false, msg);
    return;
  }
  if (type == MOAT_RPC_ERROR) {
    moat_rpc_v1_ConnError e = moat_rpc_v1_ConnError_init_zero;
    if (moat_rpc_payload_decode(f, moat_rpc_v1_ConnError_fields, &e) == MOAT_RPC_OK) {
      log_warn("rpc: host reports error %d: %s", e.code, e.message ? e.message : "");
      bool fatal = e.fatal;
      pb_release(moat_rpc_v1_ConnError_fields, &e);
      if (fatal) conn_fail(c, "the host sent a fatal ERROR");
    }
    return;
  }
  if (type == MOAT_RPC_HELLO) {
    handle_hello(c, f);
    return;
  }
  if (!c->hello_done) {
    snprintf(msg, sizeof msg, "first frame must be HELLO, got %s", moat_rpc_frame_type_name(type));
    send_error(c, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, type, f->header.stream_id, true, msg);
    return;
  }
  switch (type) {
    case MOAT_RPC_OPEN: handle_open(c, f); break;
    case MOAT_RPC_DATA: handle_data(c, f); break;
    case MOAT_RPC_WINDOW: handle_window(c, f); break;
    case MOAT_RPC_CLOSE: {
      struct stream *s = stream_for(c, f);
      if (s) handle_remote_close(s);
      break;
    }
    case MOAT_RPC_RESET: {
      struct stream *s = stream_find(c, f->header.stream_id);
      if (s) {
        log_debug("stream %u: reset by the host", s->id);
        stream_finish(s);
      }
      break;
    }
    default: break;
  }
}

/* ---- fd events ---- */

static void serial_wait_for_host(struct conn *c);

static void conn_fail(struct conn *c, const char *why) {
  if (c->closed) return;
  log_debug("rpc connection ends: %s", why);
  if (c->kind == CONN_SERIAL) {
    session_reset(c);
    bytebuf_free(&c->out);
    moat_rpc_decoder_init(&c->dec, c->dec_buf, AGENT_MAX_PAYLOAD, AGENT_MAX_PAYLOAD);
    serial_wait_for_host(c);
    return;
  }
  conn_close(c);
}

static void on_conn_event(struct watch *w, uint32_t events) {
  struct conn *c = w->ctx;
  if (events & EPOLLOUT) {
    if (conn_flush(c) < 0) return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->input_paused) {
    uint8_t buf[65536];
    for (int rounds = 0; rounds < 16 && w->registered && !c->input_paused && !c->closing; rounds++) {
      ssize_t n = read(w->fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        if (moat_rpc_decoder_partial(&c->dec)) log_warn("rpc: connection ended in the middle of a frame (truncated)");
        conn_fail(c, n == 0 ? "end of stream" : strerror(errno));
        return;
      }
      if (n < 0) break;
      size_t off = 0;
      while (off < (size_t)n && w->registered && !c->closing) {
        size_t used = 0;
        struct moat_rpc_frame f;
        int rc = moat_rpc_decoder_feed(&c->dec, buf + off, (size_t)n - off, &used, &f);
        off += used;
        if (rc == MOAT_RPC_OK) {
          handle_frame(c, &f);
        } else if (rc == MOAT_RPC_E_TOO_LARGE) {
          char msg[160];
          snprintf(msg, sizeof msg, "frame length %u exceeds max_frame_payload %u", f.header.length, AGENT_MAX_PAYLOAD);
          send_error(c, moat_rpc_v1_ErrorCode_ERROR_CODE_FRAME_TOO_LARGE, f.header.type, f.header.stream_id, true, msg);
          return;
        } else if (rc != MOAT_RPC_NEED_MORE) {
          conn_fail(c, "decoder error");
          return;
        }
      }
      if ((size_t)n < sizeof buf) break;
    }
    return;
  }
  if (events & (EPOLLHUP | EPOLLERR)) conn_fail(c, "hang-up");
}

static void serial_check_host(struct timer *t) {
  struct conn *c = t->ctx;
  struct pollfd p = {.fd = c->w.fd, .events = POLLIN};
  if (poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP)) {
    log_debug("rpc: host connected to the serial port");
    conn_update_watch(c);
    return;
  }
  timer_arm(&c->reconnect, RECONNECT_POLL_MS);
}

/* virtio-serial reports POLLHUP while no host is attached; poll until one is. */
static void serial_wait_for_host(struct conn *c) {
  loop_unwatch(conn_loop, &c->w);
  timer_arm(&c->reconnect, RECONNECT_POLL_MS);
}

struct conn *conn_create(struct loop *l, int fd, enum conn_kind kind) {
  conn_loop = l;
  struct conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->dec_buf = malloc(AGENT_MAX_PAYLOAD);
  if (!c->dec_buf) {
    free(c);
    return NULL;
  }
  moat_rpc_decoder_init(&c->dec, c->dec_buf, AGENT_MAX_PAYLOAD, AGENT_MAX_PAYLOAD);
  c->kind = kind;
  c->peer_max_payload = MOAT_RPC_DEFAULT_MAX_PAYLOAD;
  c->peer_window = MOAT_RPC_DEFAULT_WINDOW;
  watch_init(&c->w, fd, on_conn_event, c);
  timer_init(&c->reconnect, serial_check_host, c);
  c->next = all_conns;
  all_conns = c;
  if (kind == CONN_SERIAL) serial_check_host(&c->reconnect);
  else conn_update_watch(c);
  return c;
}

static void conn_free_mem(void *p) {
  struct conn *c = p;
  free(c->dec_buf);
  free(c);
}

void conn_close(struct conn *c) {
  if (c->closed) return;
  c->closed = true;
  session_reset(c);
  timer_cancel(&c->reconnect);
  loop_unwatch(conn_loop, &c->w);
  if (c->w.fd >= 0) close(c->w.fd);
  c->w.fd = -1;
  bytebuf_free(&c->out);
  for (struct conn **pp = &all_conns; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  loop_defer_free(conn_loop, conn_free_mem, c);
}

void conn_flush_all(int timeout_ms) {
  uint64_t end = now_ms() + (uint64_t)timeout_ms;
  for (struct conn *c = all_conns; c; c = c->next) {
    while (c->w.fd >= 0 && bytebuf_len(&c->out) > 0 && now_ms() < end) {
      struct pollfd p = {.fd = c->w.fd, .events = POLLOUT};
      if (poll(&p, 1, 50) < 0) break;
      ssize_t n = write(c->w.fd, bytebuf_peek(&c->out), bytebuf_len(&c->out));
      if (n > 0) bytebuf_consume(&c->out, (size_t)n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    }
  }
}
