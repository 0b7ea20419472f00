/**
 * Protobuf payloads of moat RPC frames, on top of nanopb and the code generated from
 * packages/rpc/proto (build/generated/moat/rpc/v1/NAME.pb.h).
 *
 * The generated structs use FT_POINTER for every string, bytes and repeated field, so nanopb must
 * be compiled with PB_ENABLE_MALLOC (moatrpc.mk's MOAT_RPC_CFLAGS does that). Free a decoded
 * message with pb_release(desc, msg).
 */
#ifndef MOAT_RPC_PB_H
#define MOAT_RPC_PB_H

#ifndef PB_ENABLE_MALLOC
#error "moat_rpc_pb.h: compile with -DPB_ENABLE_MALLOC=1 (use MOAT_RPC_CFLAGS from packages/rpc/c/moatrpc.mk)"
#endif

#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "moat_rpc_frame.h"
#include "moat/rpc/v1/control.pb.h"
#include "moat/rpc/v1/exec.pb.h"
#include "moat/rpc/v1/files.pb.h"
#include "moat/rpc/v1/frame.pb.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The message type carried by a frame type: Hello, Open, StreamMessage, Reset, WindowUpdate,
 * ConnError. NULL for CLOSE (empty payload) and unknown types.
 */
const pb_msgdesc_t *moat_rpc_payload_desc(uint8_t type);

/**
 * Decodes f's payload as desc into msg. On MOAT_RPC_OK free msg with pb_release(desc, msg) when
 * done; on MOAT_RPC_E_PAYLOAD nothing stays allocated (pb_decode releases it) and msg must not be
 * used. The previous contents of msg do not matter (pb_decode initialises it).
 */
int moat_rpc_payload_decode(const struct moat_rpc_frame *f, const pb_msgdesc_t *desc, void *msg);

/**
 * Encodes one frame whose payload is msg (desc may be NULL for an empty payload, e.g. CLOSE) into
 * out[0..cap). Returns the frame's total size, MOAT_RPC_E_NO_SPACE or MOAT_RPC_E_PAYLOAD.
 */
long moat_rpc_frame_encode(uint8_t *out, size_t cap, uint32_t stream_id, uint8_t type, uint8_t flags,
                           const pb_msgdesc_t *desc, const void *msg);

#ifdef __cplusplus
}
#endif

#endif
