/**
 * Frame header codec and incremental decoder (see include/moat_rpc_frame.h, PROTOCOL.md §1).
 * No allocation: payloads land in the caller's buffer, every length is checked before a copy.
 */
#include "moat_rpc_frame.h"

#include <string.h>

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void moat_rpc_header_write(const struct moat_rpc_header *h, uint8_t out[MOAT_RPC_HEADER_SIZE]) {
  put_u32(out, h->length);
  put_u32(out + 4, h->stream_id);
  out[8] = h->type;
  out[9] = h->flags;
  out[10] = 0;
  out[11] = 0;
}

void moat_rpc_header_read(const uint8_t in[MOAT_RPC_HEADER_SIZE], struct moat_rpc_header *h) {
  h->length = get_u32(in);
  h->stream_id = get_u32(in + 4);
  h->type = in[8];
  h->flags = in[9];
}

int moat_rpc_frame_type_known(uint8_t type) {
  return type >= MOAT_RPC_HELLO && type <= MOAT_RPC_ERROR;
}

const char *moat_rpc_frame_type_name(uint8_t type) {
  static const char *const names[] = {"UNKNOWN", "HELLO", "OPEN", "DATA", "CLOSE", "RESET", "WINDOW", "ERROR"};
  return moat_rpc_frame_type_known(type) ? names[type] : names[0];
}

int moat_rpc_decoder_init(struct moat_rpc_decoder *d, uint8_t *buf, size_t cap, uint32_t max_payload) {
  if (d == NULL || (buf == NULL && max_payload > 0) || max_payload > MOAT_RPC_HARD_MAX_PAYLOAD ||
      (size_t)max_payload > cap) {
    return MOAT_RPC_E_INVALID;
  }
  memset(d, 0, sizeof *d);
  d->buf = buf;
  d->cap = cap;
  d->max_payload = max_payload;
  return MOAT_RPC_OK;
}

int moat_rpc_decoder_feed(struct moat_rpc_decoder *d, const uint8_t *data, size_t len,
                          size_t *consumed, struct moat_rpc_frame *out) {
  size_t used = 0;
  *consumed = 0;
  if (d->failed) {
    out->header = d->cur;
    out->payload = NULL;
    return MOAT_RPC_E_TOO_LARGE;
  }
  if (len == 0 || data == NULL) return MOAT_RPC_NEED_MORE;
  if (d->head_have < MOAT_RPC_HEADER_SIZE) {
    size_t want = MOAT_RPC_HEADER_SIZE - d->head_have;
    size_t take = len < want ? len : want;
    memcpy(d->head + d->head_have, data, take);
    d->head_have += take;
    used += take;
    if (d->head_have < MOAT_RPC_HEADER_SIZE) {
      *consumed = used;
      return MOAT_RPC_NEED_MORE;
    }
    moat_rpc_header_read(d->head, &d->cur);
    d->payload_have = 0;
    if (d->cur.length > d->max_payload) {
      d->failed = 1;
      *consumed = used;
      out->header = d->cur;
      out->payload = NULL;
      return MOAT_RPC_E_TOO_LARGE;
    }
  }
  size_t want = (size_t)d->cur.length - d->payload_have;
  size_t avail = len - used;
  size_t take = avail < want ? avail : want;
  if (take > 0) {
    memcpy(d->buf + d->payload_have, data + used, take); /* payload_have + take <= length <= cap */
    d->payload_have += take;
    used += take;
  }
  *consumed = used;
  if (d->payload_have < d->cur.length) return MOAT_RPC_NEED_MORE;
  out->header = d->cur;
  out->payload = d->buf;
  d->head_have = 0;
  d->payload_have = 0;
  return MOAT_RPC_OK;
}

int moat_rpc_decoder_partial(const struct moat_rpc_decoder *d) {
  return d->head_have > 0;
}

long moat_rpc_frame_write(uint8_t *out, size_t cap, uint32_t stream_id, uint8_t type, uint8_t flags,
                          const uint8_t *payload, uint32_t len) {
  if (out == NULL || (payload == NULL && len > 0) || len > MOAT_RPC_HARD_MAX_PAYLOAD) return MOAT_RPC_E_INVALID;
  if (cap < MOAT_RPC_HEADER_SIZE || cap - MOAT_RPC_HEADER_SIZE < len) return MOAT_RPC_E_NO_SPACE;
  struct moat_rpc_header h = {len, stream_id, type, flags};
  moat_rpc_header_write(&h, out);
  if (len > 0) memmove(out + MOAT_RPC_HEADER_SIZE, payload, len);
  return (long)(MOAT_RPC_HEADER_SIZE + len);
}

uint32_t moat_rpc_negotiate_version(uint32_t our_min, uint32_t our_max, uint32_t peer_min, uint32_t peer_max) {
  uint32_t v = our_max < peer_max ? our_max : peer_max;
  uint32_t lo = our_min > peer_min ? our_min : peer_min;
  return (v >= lo && v > 0) ? v : 0;
}
