/**
 * Freestanding virtio-vsock driver for T1 programs: RX/TX queues, a small stream table, credit
 * accounting both ways (we advertise VS_BUF_ALLOC and only report bytes the program consumed), and
 * callbacks for what each program does with its streams. Poll-driven; no interrupts.
 */
#ifndef MOAT_T1_VSOCK_GUEST_H
#define MOAT_T1_VSOCK_GUEST_H

#include <stdint.h>

#include "t1.h"

#define VS_MAX_STREAMS 64
#define VS_BUF_ALLOC (256u * 1024u)
#define VS_MAX_PAYLOAD (64u * 1024u)

enum vs_state { VS_FREE, VS_CONNECTING, VS_OPEN, VS_CLOSING, VS_CLOSED };

struct vs_stream {
  enum vs_state state;
  uint32_t local_port, peer_port;
  uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;  // our sending side
  uint32_t fwd_cnt, fwd_reported;                 // our receiving side
  int peer_shut_send;                             // host sends no more
  int reset;                                      // ended by RST (not an orderly close)
  int host_initiated;
  // Program-owned state.
  uint8_t* buf;
  uint32_t buf_len, buf_off;
  uint64_t sent, received, target;
  uint64_t t_start, t_end;
  int done;
};

struct vs_hooks {
  /** A stream became usable (our REQUEST answered, or a host REQUEST accepted). */
  void (*on_open)(struct vs_stream* s);
  /** Payload arrived; the program must copy what it keeps and call vs_consume() when done with it. */
  void (*on_data)(struct vs_stream* s, const uint8_t* data, uint32_t len);
  /** The host will send no more (SHUTDOWN SEND), or the stream was reset. */
  void (*on_peer_done)(struct vs_stream* s);
};

/** Finds the vsock device, sets up its queues and posts RX buffers. Fails the program if absent. */
void vs_init(const struct t1_boot_info* info, const struct vs_hooks* hooks);
uint64_t vs_guest_cid(void);
/** Accept host-initiated connections to `port` (several ports allowed). */
void vs_listen(uint32_t port);
/** Opens a stream to host port `port` from local port `local_port`. */
struct vs_stream* vs_connect(uint32_t port, uint32_t local_port);
/** Processes everything the device returned; returns the number of packets handled. */
int vs_poll(void);
/** Queues up to `len` bytes (limited by host credit and TX slots); returns bytes taken. */
uint32_t vs_send(struct vs_stream* s, const uint8_t* data, uint32_t len);
/** Tells the stream `n` received bytes were consumed (credit returns to the host). */
void vs_consume(struct vs_stream* s, uint32_t n);
/** Orderly close: SHUTDOWN(RCV|SEND); the host answers with RST → VS_CLOSED. */
void vs_close(struct vs_stream* s);
struct vs_stream* vs_streams(void);

#endif
