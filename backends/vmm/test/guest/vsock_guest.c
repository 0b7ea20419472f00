/** Freestanding virtio-vsock driver for T1 programs (see vsock_guest.h). */
#include "vsock_guest.h"

#include "virtio.h"

#pragma pack(push, 1)
struct vs_hdr {
  uint64_t src_cid, dst_cid;
  uint32_t src_port, dst_port, len;
  uint16_t type, op;
  uint32_t flags, buf_alloc, fwd_cnt;
};
#pragma pack(pop)

enum { OP_REQUEST = 1, OP_RESPONSE = 2, OP_RST = 3, OP_SHUTDOWN = 4, OP_RW = 5, OP_CREDIT_UPDATE = 6,
       OP_CREDIT_REQUEST = 7 };
#define QSIZE 128
#define RX_BUF_SIZE (sizeof(struct vs_hdr) + VS_MAX_PAYLOAD)

static struct vq rxq, txq, evq;
static uint8_t* rx_bufs[QSIZE];
static uint8_t* tx_bufs[QSIZE];
static int tx_busy[QSIZE];
static uint64_t cid;
static const struct vs_hooks* hooks;
static struct vs_stream streams[VS_MAX_STREAMS];
static uint32_t listen_ports[8];
static int listen_count;

struct vs_stream* vs_streams(void) { return streams; }
uint64_t vs_guest_cid(void) { return cid; }

static void post_rx(uint16_t slot) {
  struct vbuf b = {(uint64_t)(uintptr_t)rx_bufs[slot], RX_BUF_SIZE, 1};
  if (vq_add(&rxq, &b, 1) < 0) t1_fail("vsock: RX queue full", 20);
}

void vs_init(const struct t1_boot_info* info, const struct vs_hooks* h) {
  hooks = h;
  int dev = t1_find_device(info, 19);
  if (dev < 0) t1_fail("no virtio-vsock device", 2);
  uint64_t base = t1_device_base(info, dev);
  if (virtio_init(base, 19, 0) != 0) t1_fail("vsock: virtio init", 21);
  if (virtio_setup_queue(base, &rxq, 0, QSIZE) || virtio_setup_queue(base, &txq, 1, QSIZE) ||
      virtio_setup_queue(base, &evq, 2, 8))
    t1_fail("vsock: queue setup", 22);
  if (rxq.size != QSIZE || txq.size != QSIZE) t1_fail("vsock: device queues are smaller than 128", 23);
  cid = virtio_config32(base, 0) | ((uint64_t)virtio_config32(base, 4) << 32);
  virtio_driver_ok(base);
  // Descriptor i is always RX slot i: the ring starts with a fresh free list 0..n-1.
  for (uint16_t i = 0; i < QSIZE; ++i) {
    rx_bufs[i] = t1_alloc(RX_BUF_SIZE, 64);
    tx_bufs[i] = t1_alloc(RX_BUF_SIZE, 64);
    post_rx(i);
  }
  vq_kick(&rxq);
}

void vs_listen(uint32_t port) {
  if (listen_count < 8) listen_ports[listen_count++] = port;
}

static struct vs_stream* find(uint32_t local, uint32_t peer) {
  for (int i = 0; i < VS_MAX_STREAMS; ++i)
    if (streams[i].state != VS_FREE && streams[i].local_port == local && streams[i].peer_port == peer) return &streams[i];
  return 0;
}

static struct vs_stream* alloc_stream(void) {
  for (int i = 0; i < VS_MAX_STREAMS; ++i)
    if (streams[i].state == VS_FREE) {
      memset(&streams[i], 0, sizeof streams[i]);
      return &streams[i];
    }
  return 0;
}

/** Reclaims finished TX slots. */
static void reap_tx(void) {
  int head;
  while ((head = vq_get_used(&txq, 0)) >= 0) tx_busy[head] = 0;
}

/** Sends one packet; returns 0 if no TX slot is free (caller retries after vs_poll). */
static int send_packet(uint32_t local, uint32_t peer, uint16_t op, uint32_t flags, struct vs_stream* s,
                       const uint8_t* data, uint32_t len) {
  reap_tx();
  if (txq.num_free == 0) return 0;
  uint16_t slot = txq.free_head;  // vq_add will use this descriptor as the head
  if (tx_busy[slot]) t1_fail("vsock: TX slot accounting", 24);
  struct vs_hdr* hdr = (struct vs_hdr*)tx_bufs[slot];
  hdr->src_cid = cid;
  hdr->dst_cid = 2;
  hdr->src_port = local;
  hdr->dst_port = peer;
  hdr->len = len;
  hdr->type = 1;
  hdr->op = op;
  hdr->flags = flags;
  hdr->buf_alloc = VS_BUF_ALLOC;
  hdr->fwd_cnt = s ? s->fwd_cnt : 0;
  if (s) s->fwd_reported = s->fwd_cnt;
  if (len) memcpy(tx_bufs[slot] + sizeof *hdr, data, len);
  struct vbuf b = {(uint64_t)(uintptr_t)tx_bufs[slot], (uint32_t)(sizeof *hdr + len), 0};
  if (vq_add(&txq, &b, 1) != slot) t1_fail("vsock: TX descriptor mismatch", 25);
  tx_busy[slot] = 1;
  vq_kick(&txq);
  return 1;
}

/** Control packets must not be lost: poll until a TX slot frees up. */
static void send_control(struct vs_stream* s, uint32_t local, uint32_t peer, uint16_t op, uint32_t flags) {
  for (uint64_t tries = 0; !send_packet(local, peer, op, flags, s, 0, 0); ++tries) {
    if (tries > 2000000000ull) t1_fail("vsock: TX queue stuck", 26);
    t1_pause();
  }
}

struct vs_stream* vs_connect(uint32_t port, uint32_t local_port) {
  struct vs_stream* s = alloc_stream();
  if (!s) t1_fail("vsock: too many streams", 27);
  s->state = VS_CONNECTING;
  s->local_port = local_port;
  s->peer_port = port;
  send_control(s, local_port, port, OP_REQUEST, 0);
  return s;
}

uint32_t vs_send(struct vs_stream* s, const uint8_t* data, uint32_t len) {
  if (s->state != VS_OPEN) return 0;
  uint32_t in_flight = s->tx_cnt - s->peer_fwd_cnt;
  uint32_t credit = in_flight >= s->peer_buf_alloc ? 0 : s->peer_buf_alloc - in_flight;
  if (len > credit) len = credit;
  if (len > VS_MAX_PAYLOAD) len = VS_MAX_PAYLOAD;
  if (len == 0) return 0;
  if (!send_packet(s->local_port, s->peer_port, OP_RW, 0, s, data, len)) return 0;
  s->tx_cnt += len;
  return len;
}

void vs_consume(struct vs_stream* s, uint32_t n) {
  s->fwd_cnt += n;
  if (s->state == VS_OPEN && s->fwd_cnt - s->fwd_reported >= VS_BUF_ALLOC / 4)
    send_control(s, s->local_port, s->peer_port, OP_CREDIT_UPDATE, 0);
}

void vs_close(struct vs_stream* s) {
  if (s->state != VS_OPEN && s->state != VS_CONNECTING) return;
  s->state = VS_CLOSING;
  send_control(s, s->local_port, s->peer_port, OP_SHUTDOWN, 3);
}

static void handle(const struct vs_hdr* h, const uint8_t* payload) {
  if (h->dst_cid != cid || h->type != 1) return;
  struct vs_stream* s = find(h->dst_port, h->src_port);
  if (h->op == OP_REQUEST) {
    int listening = 0;
    for (int i = 0; i < listen_count; ++i) listening |= listen_ports[i] == h->dst_port;
    struct vs_stream* n = (!s && listening) ? alloc_stream() : 0;
    if (!n) {
      send_control(0, h->dst_port, h->src_port, OP_RST, 0);
      return;
    }
    n->state = VS_OPEN;
    n->host_initiated = 1;
    n->local_port = h->dst_port;
    n->peer_port = h->src_port;
    n->peer_buf_alloc = h->buf_alloc;
    n->peer_fwd_cnt = h->fwd_cnt;
    send_control(n, n->local_port, n->peer_port, OP_RESPONSE, 0);
    if (hooks->on_open) hooks->on_open(n);
    return;
  }
  if (!s) {
    if (h->op != OP_RST) send_control(0, h->dst_port, h->src_port, OP_RST, 0);
    return;
  }
  s->peer_buf_alloc = h->buf_alloc;
  s->peer_fwd_cnt = h->fwd_cnt;
  switch (h->op) {
    case OP_RESPONSE:
      if (s->state == VS_CONNECTING) {
        s->state = VS_OPEN;
        if (hooks->on_open) hooks->on_open(s);
      }
      break;
    case OP_RW:
      if (s->state == VS_OPEN || s->state == VS_CLOSING) {
        if (hooks->on_data) hooks->on_data(s, payload, h->len);
      }
      break;
    case OP_CREDIT_REQUEST:
      send_control(s, s->local_port, s->peer_port, OP_CREDIT_UPDATE, 0);
      break;
    case OP_SHUTDOWN:
      if (h->flags & 2) {
        s->peer_shut_send = 1;
        if (hooks->on_peer_done) hooks->on_peer_done(s);
      }
      break;
    case OP_RST: {
      int was_closing = s->state == VS_CLOSING;
      s->reset = !was_closing;
      s->state = VS_CLOSED;
      if (!was_closing && hooks->on_peer_done) hooks->on_peer_done(s);
      break;
    }
    default:
      break;
  }
}

int vs_poll(void) {
  int handled = 0;
  uint32_t len;
  int head;
  while ((head = vq_get_used(&rxq, &len)) >= 0) {
    const struct vs_hdr* h = (const struct vs_hdr*)rx_bufs[head];
    if (len >= sizeof *h && h->len <= len - sizeof *h) handle(h, rx_bufs[head] + sizeof *h);
    post_rx((uint16_t)head);
    ++handled;
  }
  if (handled) vq_kick(&rxq);
  reap_tx();
  return handled;
}
