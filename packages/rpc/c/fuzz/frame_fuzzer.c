/**
 * libFuzzer + ASan/UBSan target for the guest's frame decoder and payload decoding: the input is
 * fed to moat_rpc_decoder_feed in pieces whose sizes come from the input itself, every complete
 * frame's payload is decoded with nanopb as its type's message (and re-encoded), and the decoder's
 * invariants are checked (consumed bytes, lengths within the limit, sticky oversize error).
 * Build/run: make fuzz-run FUZZ_SECONDS=45
 */
#include <stdlib.h>
#include <string.h>

#include "moat_rpc_pb.h"

#define MAX_PAYLOAD 4096u

static uint8_t payload_buf[MAX_PAYLOAD];
static uint8_t out_buf[MAX_PAYLOAD * 4 + MOAT_RPC_HEADER_SIZE];

union any_msg {
  moat_rpc_v1_Hello hello;
  moat_rpc_v1_Open open;
  moat_rpc_v1_StreamMessage data;
  moat_rpc_v1_Reset reset;
  moat_rpc_v1_WindowUpdate window;
  moat_rpc_v1_ConnError error;
};

static void handle(const struct moat_rpc_frame *f) {
  if (f->header.length > MAX_PAYLOAD) abort();
  const pb_msgdesc_t *desc = moat_rpc_payload_desc(f->header.type);
  if (desc == NULL) return;
  union any_msg msg;
  memset(&msg, 0x5a, sizeof msg); /* moat_rpc_payload_decode must not depend on prior contents */
  if (moat_rpc_payload_decode(f, desc, &msg) != MOAT_RPC_OK) return;
  long n = moat_rpc_frame_encode(out_buf, sizeof out_buf, f->header.stream_id, f->header.type, f->header.flags, desc, &msg);
  if (n < 0 && n != MOAT_RPC_E_NO_SPACE) abort();
  pb_release(desc, &msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct moat_rpc_decoder d;
  if (moat_rpc_decoder_init(&d, payload_buf, sizeof payload_buf, MAX_PAYLOAD) != MOAT_RPC_OK) abort();
  size_t off = 0;
  unsigned step_seed = size > 0 ? data[0] : 1;
  while (off < size) {
    size_t piece = 1 + (step_seed * 31u + off) % 97u; /* varied split points */
    if (piece > size - off) piece = size - off;
    size_t pos = 0;
    while (pos < piece) {
      size_t used = 0;
      struct moat_rpc_frame f;
      int r = moat_rpc_decoder_feed(&d, data + off + pos, piece - pos, &used, &f);
      if (used > piece - pos) abort();
      pos += used;
      if (r == MOAT_RPC_E_TOO_LARGE) {
        size_t again = 0;
        if (f.header.length <= MAX_PAYLOAD) abort();
        if (moat_rpc_decoder_feed(&d, data, size, &again, &f) != MOAT_RPC_E_TOO_LARGE || again != 0) abort();
        return 0;
      }
      if (r == MOAT_RPC_OK) handle(&f);
      else if (r != MOAT_RPC_NEED_MORE || pos != piece) abort();
    }
    off += piece;
  }
  return 0;
}
