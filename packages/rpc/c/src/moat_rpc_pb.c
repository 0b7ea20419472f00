/**
 * Protobuf payloads of frames via nanopb (see include/moat_rpc_pb.h). The frame payload is
 * encoded directly behind the 12-byte header in the caller's buffer: no intermediate copy.
 */
#include "moat_rpc_pb.h"

#include <string.h>

const pb_msgdesc_t *moat_rpc_payload_desc(uint8_t type) {
  switch (type) {
    case MOAT_RPC_HELLO: return moat_rpc_v1_Hello_fields;
    case MOAT_RPC_OPEN: return moat_rpc_v1_Open_fields;
    case MOAT_RPC_DATA: return moat_rpc_v1_StreamMessage_fields;
    case MOAT_RPC_RESET: return moat_rpc_v1_Reset_fields;
    case MOAT_RPC_WINDOW: return moat_rpc_v1_WindowUpdate_fields;
    case MOAT_RPC_ERROR: return moat_rpc_v1_ConnError_fields;
    default: return NULL;
  }
}

int moat_rpc_payload_decode(const struct moat_rpc_frame *f, const pb_msgdesc_t *desc, void *msg) {
  if (f == NULL || desc == NULL || msg == NULL || (f->payload == NULL && f->header.length > 0)) {
    return MOAT_RPC_E_INVALID;
  }
  pb_istream_t in = pb_istream_from_buffer(f->payload, f->header.length);
  if (!pb_decode(&in, desc, msg)) return MOAT_RPC_E_PAYLOAD; /* pb_decode released on failure */
  return MOAT_RPC_OK;
}

long moat_rpc_frame_encode(uint8_t *out, size_t cap, uint32_t stream_id, uint8_t type, uint8_t flags,
                           const pb_msgdesc_t *desc, const void *msg) {
  if (out == NULL || (desc != NULL && msg == NULL)) return MOAT_RPC_E_INVALID;
  if (cap < MOAT_RPC_HEADER_SIZE) return MOAT_RPC_E_NO_SPACE;
  size_t room = cap - MOAT_RPC_HEADER_SIZE;
  if (room > MOAT_RPC_HARD_MAX_PAYLOAD) room = MOAT_RPC_HARD_MAX_PAYLOAD;
  size_t len = 0;
  if (desc != NULL) {
    pb_ostream_t os = pb_ostream_from_buffer(out + MOAT_RPC_HEADER_SIZE, room);
    if (!pb_encode(&os, desc, msg)) {
      size_t need = 0;
      return (pb_get_encoded_size(&need, desc, msg) && need > room) ? MOAT_RPC_E_NO_SPACE : MOAT_RPC_E_PAYLOAD;
    }
    len = os.bytes_written;
  }
  struct moat_rpc_header h = {(uint32_t)len, stream_id, type, flags};
  moat_rpc_header_write(&h, out);
  return (long)(MOAT_RPC_HEADER_SIZE + len);
}
