/**
 * T1 program vsock_bench: the guest side of benchmarks/vsock.
 *   source=N bytes=B   guest -> host: open a stream to host port N, send B bytes, close
 *   sink=M             host -> guest: accept one stream on M, consume everything until the host
 *                      shuts down, then close
 *   echo=P accept=J    round trips: accept J streams on P and echo every message back
 * Modes run in that order when several are given. Prints "vsock_bench: ok" and exits 0.
 */
#include "t1.h"
#include "vsock_guest.h"

static void on_open(struct vs_stream* s) {
  if (s->host_initiated && s->local_port == (uint32_t)s->target) s->buf = t1_alloc(VS_BUF_ALLOC, 64);
}

static uint32_t echo_port;

static void on_data(struct vs_stream* s, const uint8_t* data, uint32_t len) {
  s->received += len;
  if (s->local_port == echo_port) {
    if (!s->buf) s->buf = t1_alloc(VS_BUF_ALLOC, 64);
    if (s->buf_len + len > VS_BUF_ALLOC) t1_fail("vsock_bench: host exceeded our credit", 40);
    memcpy(s->buf + s->buf_len, data, len);
    s->buf_len += len;
    return;
  }
  vs_consume(s, len);  // sink: drop the bytes, return the credit
}

static void on_peer_done(struct vs_stream* s) { (void)s; }

static const struct vs_hooks kHooks = {on_open, on_data, on_peer_done};

static struct vs_stream* wait_accept(uint32_t port) {
  for (;;) {
    vs_poll();
    struct vs_stream* all = vs_streams();
    for (int i = 0; i < VS_MAX_STREAMS; ++i)
      if (all[i].state == VS_OPEN && all[i].host_initiated && all[i].local_port == port && !all[i].done) return &all[i];
  }
}

static void wait_closed(struct vs_stream* s) {
  while (s->state != VS_CLOSED) vs_poll();
}

int t1_main(const struct t1_boot_info* info) {
  t1_heap_init(info);
  vs_init(info, &kHooks);
  const uint32_t source = (uint32_t)t1_arg(info, "source", 0);
  const uint32_t sink = (uint32_t)t1_arg(info, "sink", 0);
  echo_port = (uint32_t)t1_arg(info, "echo", 0);
  const uint32_t accept = (uint32_t)t1_arg(info, "accept", 1);
  const uint64_t bytes = t1_arg(info, "bytes", 64ull << 20);
  if (!source && !sink && !echo_port) t1_fail("vsock_bench: give source=N, sink=M and/or echo=P", 2);
  if (sink) vs_listen(sink);
  if (echo_port) vs_listen(echo_port);
  t1_puts("vsock_bench: ready\n");

  if (source) {
    static uint8_t chunk[VS_MAX_PAYLOAD];
    for (uint32_t i = 0; i < VS_MAX_PAYLOAD; ++i) chunk[i] = (uint8_t)i;
    struct vs_stream* s = vs_connect(source, 50000);
    while (s->state == VS_CONNECTING) vs_poll();
    if (s->state != VS_OPEN) t1_fail("vsock_bench: host refused the source stream", 41);
    while (s->sent < bytes) {
      uint64_t left = bytes - s->sent;
      uint32_t n = vs_send(s, chunk, left < VS_MAX_PAYLOAD ? (uint32_t)left : VS_MAX_PAYLOAD);
      s->sent += n;
      if (n == 0) vs_poll();
    }
    vs_close(s);
    wait_closed(s);
    t1_puts("vsock_bench: sent ");
    t1_put_u64(s->sent);
    t1_puts(" bytes\n");
  }
  if (sink) {
    struct vs_stream* s = wait_accept(sink);
    while (!s->peer_shut_send && s->state == VS_OPEN) vs_poll();
    vs_close(s);
    wait_closed(s);
    s->done = 1;
    t1_puts("vsock_bench: received ");
    t1_put_u64(s->received);
    t1_puts(" bytes\n");
  }
  if (echo_port) {
    for (uint32_t k = 0; k < accept; ++k) {
      struct vs_stream* s = wait_accept(echo_port);
      while (s->state == VS_OPEN) {
        vs_poll();
        if (s->buf_len > 0) {
          uint32_t n = vs_send(s, s->buf, s->buf_len);
          if (n) {
            memmove(s->buf, s->buf + n, s->buf_len - n);
            s->buf_len -= n;
            vs_consume(s, n);
          }
        }
        if (s->peer_shut_send && s->buf_len == 0) vs_close(s);
      }
      wait_closed(s);
      s->done = 1;
    }
  }
  t1_puts("vsock_bench: ok\n");
  return 0;
}
