/**
 * T1 program vsock_echo: virtio-vsock echo both ways.
 *   port=N streams=K bytes=B   guest opens K streams to host port N (Unix socket <uds>_N), sends B
 *                              pattern bytes on each and verifies the host echoes them back
 *   listen=M accept=J          guest accepts J host-initiated streams (CONNECT M) and echoes all
 *                              bytes until the host shuts its side down
 * Both modes can run at once. Prints "vsock_echo: ok" and exits 0 when every stream finished.
 */
#include "t1.h"
#include "vsock_guest.h"

static uint64_t bytes_per_stream;
static uint32_t accepted;

static uint8_t pattern(struct vs_stream* s, uint64_t offset) {
  return (uint8_t)((offset * 7 + s->local_port * 13) ^ (offset >> 11));
}

static void on_open(struct vs_stream* s) {
  if (s->host_initiated) {
    s->buf = t1_alloc(VS_BUF_ALLOC, 64);
    ++accepted;
  } else {
    s->target = bytes_per_stream;
  }
}

static void on_data(struct vs_stream* s, const uint8_t* data, uint32_t len) {
  if (s->host_initiated) {
    // Echo: keep the bytes until they are sent back (the host cannot exceed VS_BUF_ALLOC).
    if (s->buf_len + len > VS_BUF_ALLOC) t1_fail("vsock_echo: host exceeded our credit", 30);
    if (s->buf_off > 0) {
      memmove(s->buf, s->buf + s->buf_off, s->buf_len);
      s->buf_off = 0;
    }
    memcpy(s->buf + s->buf_len, data, len);
    s->buf_len += len;
    s->received += len;
    return;
  }
  for (uint32_t i = 0; i < len; ++i) {
    if (data[i] != pattern(s, s->received + i)) {
      t1_puts("vsock_echo: mismatch on stream ");
      t1_put_u64(s->local_port);
      t1_puts(" at offset ");
      t1_put_u64(s->received + i);
      t1_putc('\n');
      t1_fail("echoed data differs", 31);
    }
  }
  s->received += len;
  vs_consume(s, len);
  if (s->received > s->target) t1_fail("vsock_echo: host echoed more than was sent", 32);
}

static void on_peer_done(struct vs_stream* s) {
  if (s->reset && !s->host_initiated && s->received < s->target) t1_fail("vsock_echo: stream reset by the host", 33);
}

static const struct vs_hooks kHooks = {on_open, on_data, on_peer_done};

int t1_main(const struct t1_boot_info* info) {
  t1_heap_init(info);
  vs_init(info, &kHooks);
  const uint32_t port = (uint32_t)t1_arg(info, "port", 0);
  const uint32_t streams = (uint32_t)t1_arg(info, "streams", 1);
  const uint32_t listen = (uint32_t)t1_arg(info, "listen", 0);
  const uint32_t accept = (uint32_t)t1_arg(info, "accept", listen ? 1 : 0);
  bytes_per_stream = t1_arg(info, "bytes", 1 << 20);
  if (!port && !listen) t1_fail("vsock_echo: give port=N and/or listen=M", 2);
  if (streams > VS_MAX_STREAMS / 2 || accept > VS_MAX_STREAMS / 2) t1_fail("vsock_echo: at most 32 streams per mode", 2);
  t1_puts("vsock_echo: guest cid ");
  t1_put_u64(vs_guest_cid());
  t1_putc('\n');
  if (listen) vs_listen(listen);
  // Print a marker the host waits for before connecting (the device is live from here).
  t1_puts("vsock_echo: ready\n");
  if (port)
    for (uint32_t i = 0; i < streams; ++i) vs_connect(port, 40000 + i);

  uint8_t* chunk = t1_alloc(VS_MAX_PAYLOAD, 64);
  uint32_t closed_connect = 0, closed_accept = 0;
  while (closed_connect < (port ? streams : 0) || closed_accept < accept) {
    vs_poll();
    closed_connect = closed_accept = 0;
    struct vs_stream* all = vs_streams();
    for (int i = 0; i < VS_MAX_STREAMS; ++i) {
      struct vs_stream* s = &all[i];
      if (s->state == VS_FREE) continue;
      if (s->state == VS_CLOSED) {
        if (s->host_initiated) ++closed_accept;
        else ++closed_connect;
        continue;
      }
      if (s->state != VS_OPEN) continue;
      if (s->host_initiated) {
        if (s->buf_len > 0) {
          uint32_t n = vs_send(s, s->buf + s->buf_off, s->buf_len);
          s->buf_off += n;
          s->buf_len -= n;
          if (s->buf_len == 0) s->buf_off = 0;
          vs_consume(s, n);
        }
        if (s->peer_shut_send && s->buf_len == 0) vs_close(s);
      } else {
        while (s->sent < s->target) {
          uint64_t left = s->target - s->sent;
          uint32_t want = left < VS_MAX_PAYLOAD ? (uint32_t)left : VS_MAX_PAYLOAD;
          for (uint32_t k = 0; k < want; ++k) chunk[k] = pattern(s, s->sent + k);
          uint32_t n = vs_send(s, chunk, want);
          if (n == 0) break;
          s->sent += n;
        }
        if (s->received == s->target && s->sent == s->target) vs_close(s);
      }
    }
  }
  t1_puts("vsock_echo: ");
  t1_put_u64(port ? streams : 0);
  t1_puts(" guest-initiated and ");
  t1_put_u64(accepted);
  t1_puts(" host-initiated streams done\nvsock_echo: ok\n");
  return 0;
}
