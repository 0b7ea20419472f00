/**
 * Byte queue implementation (see bytebuf.h): compacts before it grows, shrinks its storage when it
 * empties out after a burst so an idle connection holds little memory.
 */
#include "bytebuf.h"

#include <stdlib.h>
#include <string.h>

#define SHRINK_ABOVE (256u * 1024u)

uint8_t *bytebuf_reserve(struct bytebuf *b, size_t n) {
  if (b->cap - b->tail >= n) return b->data + b->tail;
  size_t len = bytebuf_len(b);
  if (b->head > 0 && b->cap - len >= n) {
    memmove(b->data, b->data + b->head, len);
    b->head = 0;
    b->tail = len;
    return b->data + b->tail;
  }
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - len < n) cap *= 2;
  uint8_t *d = malloc(cap);
  if (!d) return NULL;
  if (len) memcpy(d, b->data + b->head, len);
  free(b->data);
  b->data = d;
  b->cap = cap;
  b->head = 0;
  b->tail = len;
  return b->data + b->tail;
}

void bytebuf_commit(struct bytebuf *b, size_t n) { b->tail += n; }

int bytebuf_append(struct bytebuf *b, const void *p, size_t n) {
  uint8_t *dst = bytebuf_reserve(b, n);
  if (!dst) return -1;
  memcpy(dst, p, n);
  b->tail += n;
  return 0;
}

void bytebuf_consume(struct bytebuf *b, size_t n) {
  b->head += n;
  if (b->head == b->tail) {
    b->head = b->tail = 0;
    if (b->cap > SHRINK_ABOVE) bytebuf_free(b);
  }
}

void bytebuf_free(struct bytebuf *b) {
  free(b->data);
  b->data = NULL;
  b->head = b->tail = b->cap = 0;
}
