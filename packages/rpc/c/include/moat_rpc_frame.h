/**
 * moat RPC frame codec (C11), the guest side of packages/rpc/PROTOCOL.md.
 *
 * A frame is a 12-byte little-endian header {u32 length, u32 stream_id, u8 type, u8 flags,
 * u16 reserved} followed by `length` bytes of protobuf payload. This header has no dependency on
 * nanopb; moat_rpc_pb.h adds payload encode/decode on top.
 *
 * The decoder is incremental (feed it whatever read() returned, in any pieces), never allocates,
 * and bounds-checks every length against the caller's buffer and max payload.
 */
#ifndef MOAT_RPC_FRAME_H
#define MOAT_RPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOAT_RPC_HEADER_SIZE 12u
#define MOAT_RPC_PROTOCOL_VERSION 1u
#define MOAT_RPC_DEFAULT_MAX_PAYLOAD 131072u
#define MOAT_RPC_HARD_MAX_PAYLOAD 1048576u
#define MOAT_RPC_DEFAULT_WINDOW 262144u
#define MOAT_RPC_MAX_CHUNK 65535u /* nanopb PB_SIZE_MAX: Debian's libnanopb has a 16-bit pb_size_t */
#define MOAT_RPC_MAX_CREDIT 0x7fffffffu
#define MOAT_RPC_AGENT_PORT 1024u

/** Frame types (PROTOCOL.md §2). */
enum moat_rpc_frame_type {
  MOAT_RPC_HELLO = 1,
  MOAT_RPC_OPEN = 2,
  MOAT_RPC_DATA = 3,
  MOAT_RPC_CLOSE = 4,
  MOAT_RPC_RESET = 5,
  MOAT_RPC_WINDOW = 6,
  MOAT_RPC_ERROR = 7,
};

/** flags bit 0 on OPEN/DATA: the sender half-closes after this frame. */
#define MOAT_RPC_FLAG_FIN 0x01u

/** Results of the codec functions. Errors are negative. */
enum moat_rpc_status {
  MOAT_RPC_OK = 0,             /**< a complete frame is in *out */
  MOAT_RPC_NEED_MORE = 1,      /**< every byte was consumed; no complete frame yet */
  MOAT_RPC_E_TOO_LARGE = -1,   /**< length field above max payload: fatal, close the connection */
  MOAT_RPC_E_NO_SPACE = -2,    /**< output buffer too small (encoder) */
  MOAT_RPC_E_INVALID = -3,     /**< bad argument (NULL pointer, max payload above the hard limit) */
  MOAT_RPC_E_PAYLOAD = -4,     /**< payload is not valid protobuf for its frame type (moat_rpc_pb.h) */
};

struct moat_rpc_header {
  uint32_t length;
  uint32_t stream_id;
  uint8_t type;
  uint8_t flags;
};

/** A decoded frame. payload points into the decoder's buffer: valid until the next feed. */
struct moat_rpc_frame {
  struct moat_rpc_header header;
  const uint8_t *payload;
};

/** Incremental decoder state. Initialise with moat_rpc_decoder_init(); fields are private. */
struct moat_rpc_decoder {
  uint8_t *buf;
  size_t cap;
  uint32_t max_payload;
  uint8_t head[MOAT_RPC_HEADER_SIZE];
  size_t head_have;
  struct moat_rpc_header cur;
  size_t payload_have;
  int failed;
};

/** Writes the 12-byte header for h into out. */
void moat_rpc_header_write(const struct moat_rpc_header *h, uint8_t out[MOAT_RPC_HEADER_SIZE]);

/** Reads a 12-byte header (the reserved bytes are ignored, as PROTOCOL.md says). */
void moat_rpc_header_read(const uint8_t in[MOAT_RPC_HEADER_SIZE], struct moat_rpc_header *h);

/** 1 when type is a frame type of protocol v1, else 0 (answer with ERROR UNKNOWN_FRAME_TYPE). */
int moat_rpc_frame_type_known(uint8_t type);

/** Short name of a frame type ("DATA"), or "UNKNOWN". */
const char *moat_rpc_frame_type_name(uint8_t type);

/**
 * Prepares a decoder that stores payloads in buf (capacity cap). max_payload is the limit this
 * side announced in its HELLO; it must be <= cap and <= MOAT_RPC_HARD_MAX_PAYLOAD.
 * Returns MOAT_RPC_OK or MOAT_RPC_E_INVALID.
 */
int moat_rpc_decoder_init(struct moat_rpc_decoder *d, uint8_t *buf, size_t cap, uint32_t max_payload);

/**
 * Consumes bytes from data[0..len) until one frame is complete or the input is used up.
 * *consumed is set to the number of bytes used; call again with the rest after handling a frame.
 * Returns MOAT_RPC_OK (frame in *out), MOAT_RPC_NEED_MORE, or MOAT_RPC_E_TOO_LARGE (sticky: the
 * stream cannot be resynchronised; *out->header holds the offending header).
 */
int moat_rpc_decoder_feed(struct moat_rpc_decoder *d, const uint8_t *data, size_t len,
                          size_t *consumed, struct moat_rpc_frame *out);

/** 1 when the decoder holds part of a frame (a connection ending now was truncated). */
int moat_rpc_decoder_partial(const struct moat_rpc_decoder *d);

/**
 * Writes a frame (header + payload copy) into out[0..cap). Returns the total size (12 + len) or
 * MOAT_RPC_E_NO_SPACE / MOAT_RPC_E_INVALID. Never writes past cap.
 */
long moat_rpc_frame_write(uint8_t *out, size_t cap, uint32_t stream_id, uint8_t type, uint8_t flags,
                          const uint8_t *payload, uint32_t len);

/**
 * Version negotiation (PROTOCOL.md §3): the version both ranges share, or 0 when none does
 * (send ERROR VERSION_MISMATCH and close).
 */
uint32_t moat_rpc_negotiate_version(uint32_t our_min, uint32_t our_max, uint32_t peer_min, uint32_t peer_max);

#ifdef __cplusplus
}
#endif

#endif
