/**
 * The file calls (PROTOCOL.md §8): file_put, file_get, stat, list, mkdir, remove.
 * Paths must be absolute. Errors end the stream with RESET (code from errno, errno_value, and a
 * message naming the call and the path).
 */
#ifndef MOAT_AGENT_FILE_SERVICE_H
#define MOAT_AGENT_FILE_SERVICE_H

#include <stddef.h>

#include "../rpc/conn.h"

size_t file_stream_size(void);
void file_open(struct stream *s, moat_rpc_v1_Open *open);

#endif
