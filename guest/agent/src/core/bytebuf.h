/**
 * A growable byte queue: append at the tail, consume from the head. Used for a connection's
 * outgoing frames and an exec's pending stdin.
 */
#ifndef MOAT_AGENT_BYTEBUF_H
#define MOAT_AGENT_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

struct bytebuf {
  uint8_t *data;
  size_t head, tail, cap;
};

static inline size_t bytebuf_len(const struct bytebuf *b) { return b->tail - b->head; }
static inline const uint8_t *bytebuf_peek(const struct bytebuf *b) { return b->data + b->head; }

/** Returns a pointer to at least `n` writable bytes at the tail (commit with bytebuf_commit). */
uint8_t *bytebuf_reserve(struct bytebuf *b, size_t n);
void bytebuf_commit(struct bytebuf *b, size_t n);
int bytebuf_append(struct bytebuf *b, const void *p, size_t n);
void bytebuf_consume(struct bytebuf *b, size_t n);
void bytebuf_free(struct bytebuf *b);

#endif
