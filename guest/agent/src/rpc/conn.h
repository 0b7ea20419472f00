/**
 * One RPC connection (a vsock or Unix socket, or the virtio-serial port): frame decoding with the
 * shared codec (packages/rpc/c), the HELLO handshake, the stream table, per-stream credit (flow
 * control, PROTOCOL.md §5), and a bounded outgoing buffer. Services (exec, files, control) plug in
 * through `struct stream_ops`; they never touch the socket.
 */
#ifndef MOAT_AGENT_CONN_H
#define MOAT_AGENT_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/bytebuf.h"
#include "../core/loop.h"
#include "../core/timers.h"
#include "moat_rpc_pb.h"

#define AGENT_MAX_STREAMS 1024u
/** Receive limits the agent announces in its HELLO. The window is kept >= 2x the frame limit so
 * WINDOW batching at half the window can never stall a sender. */
#define AGENT_MAX_PAYLOAD MOAT_RPC_DEFAULT_MAX_PAYLOAD
#define AGENT_WINDOW (4u * MOAT_RPC_DEFAULT_MAX_PAYLOAD)

struct conn;
struct stream;

struct stream_ops {
  /** A DATA message from the host, within credit. The service calls stream_consumed() for its
   * wire_len once the bytes are used (now, or later for queued stdin). msg is released after. */
  void (*on_message)(struct stream *s, moat_rpc_v1_StreamMessage *msg, uint32_t wire_len);
  /** The host half-closed the stream (CLOSE or FIN). */
  void (*on_remote_close)(struct stream *s);
  /** Credit or outgoing buffer space is available again after stream_wait_writable(). */
  void (*on_writable)(struct stream *s);
  /** The stream is over (both sides closed, a RESET either way, a deadline, or the connection is
   * gone): release everything. Must not send. The memory is freed after the event batch. */
  void (*destroy)(struct stream *s);
};

struct stream {
  struct stream *hash_next, *next, *prev;
  struct conn *conn;
  const struct stream_ops *ops;
  uint32_t id;
  int64_t send_credit;
  uint32_t recv_credit;
  uint32_t recv_unacked;
  bool local_closed, remote_closed, finished, blocked;
  struct timer deadline;
  uint32_t timeout_ms;
};

enum conn_kind { CONN_SOCKET, CONN_SERIAL };

struct conn {
  struct conn *next;
  enum conn_kind kind;
  struct watch w;
  struct moat_rpc_decoder dec;
  uint8_t *dec_buf;
  struct bytebuf out;
  bool hello_done, closing, input_paused, closed;
  uint32_t peer_max_payload, peer_window, highest_peer_id;
  struct stream *buckets[256];
  struct stream *streams;
  unsigned nstreams;
  struct timer reconnect;
};

/** Wraps a connected, non-blocking fd (socket or serial port). Returns NULL on out-of-memory. */
struct conn *conn_create(struct loop *l, int fd, enum conn_kind kind);
/** Ends every stream and closes the fd (serial ports are reset and kept). */
void conn_close(struct conn *c);

/** All live connections (for shutdown). */
struct conn *conn_list(void);
/** Blocks up to timeout_ms to push out what every connection has buffered (before power-off). */
void conn_flush_all(int timeout_ms);

/** Largest DATA payload the stream may send now (credit, peer frame limit, buffer), 0 = wait. */
uint32_t stream_send_room(const struct stream *s);
/** Sends one DATA message (FIN when fin). -EAGAIN: not enough room; call stream_wait_writable(). */
int stream_send(struct stream *s, const moat_rpc_v1_StreamMessage *msg, bool fin);
/** Sends CLOSE (once). The stream finishes when the host has closed too. */
void stream_close(struct stream *s);
/** Sends RESET with a message naming the value, then ends the stream. */
void stream_reset(struct stream *s, moat_rpc_v1_ErrorCode code, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** Ends the stream with RESET carrying the error code that matches errno `err`. */
void stream_reset_errno(struct stream *s, int err, const char *what);
/** Returns credit for n bytes of host DATA that have been used up (WINDOW frames are batched). */
void stream_consumed(struct stream *s, uint32_t n);
void stream_wait_writable(struct stream *s);

moat_rpc_v1_ErrorCode error_code_for_errno(int err);

/** Called by the conn layer to start a stream for an OPEN (see services.h). */
void services_open(struct stream *s, moat_rpc_v1_Open *open);
/** Size of the service's stream struct for this call (0 = unknown call). */
size_t services_stream_size(pb_size_t which_call);

#endif
