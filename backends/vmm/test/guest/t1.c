/** Freestanding runtime for T1 guest programs (see t1.h). */
#include "t1.h"

void t1_exit(uint32_t status) {
  t1_outl(T1_EXIT_PORT, status);
  for (;;) t1_pause();  // the machine stops on the exit port; never returns
}

void t1_putc(char c) { t1_outb(T1_SERIAL_PORT, (uint8_t)c); }

void t1_puts(const char* s) {
  while (*s) t1_putc(*s++);
}

void t1_put_u64(uint64_t v) {
  char buf[21];
  int i = 20;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  t1_puts(buf + i);
}

void t1_put_hex(uint64_t v) {
  t1_puts("0x");
  for (int shift = 60; shift >= 0; shift -= 4) t1_putc("0123456789abcdef"[(v >> shift) & 15]);
}

void t1_fail(const char* msg, uint32_t code) {
  t1_puts("FAIL: ");
  t1_puts(msg);
  t1_putc('\n');
  t1_exit(code ? code : 1);
}

uint64_t t1_arg(const struct t1_boot_info* info, const char* key, uint64_t fallback) {
  const char* a = info->args;
  size_t klen = 0;
  while (key[klen]) ++klen;
  for (size_t i = 0; i < T1_ARGS_SIZE && a[i];) {
    size_t j = 0;
    while (j < klen && a[i + j] == key[j]) ++j;
    if (j == klen && a[i + j] == '=' && (i == 0 || a[i - 1] == ' ')) {
      uint64_t v = 0;
      for (size_t k = i + j + 1; k < T1_ARGS_SIZE && a[k] >= '0' && a[k] <= '9'; ++k) v = v * 10 + (uint64_t)(a[k] - '0');
      return v;
    }
    while (i < T1_ARGS_SIZE && a[i] && a[i] != ' ') ++i;
    while (i < T1_ARGS_SIZE && a[i] == ' ') ++i;
  }
  return fallback;
}

int t1_find_device(const struct t1_boot_info* info, uint32_t id) {
  uint64_t forced = t1_arg(info, "dev", ~0ull);
  if (forced != ~0ull) return forced < info->device_count && info->device_ids[forced] == id ? (int)forced : -1;
  for (uint32_t i = 0; i < info->device_count && i < T1_MAX_DEVICES; ++i)
    if (info->device_ids[i] == id) return (int)i;
  return -1;
}

uint64_t t1_device_base(const struct t1_boot_info* info, int index) {
  return info->mmio_base + (uint64_t)index * info->mmio_stride;
}

static uint64_t heap_next, heap_end;

void t1_heap_init(const struct t1_boot_info* info) {
  heap_next = T1_FREE_RAM_START;
  heap_end = info->mem_size;
}

void* t1_alloc(uint64_t size, uint64_t align) {
  uint64_t p = (heap_next + align - 1) & ~(align - 1);
  if (p + size > heap_end || p + size < p) t1_fail("out of guest memory (raise the machine's memory size)", 90);
  heap_next = p + size;
  memset((void*)(uintptr_t)p, 0, size);
  return (void*)(uintptr_t)p;
}

void t1_spin(uint64_t n) {
  while (n--) t1_pause();
}

void* memset(void* d, int c, size_t n) {
  void* r = d;
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return r;
}

void* memcpy(void* d, const void* s, size_t n) {
  void* r = d;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return r;
}

void* memmove(void* d, const void* s, size_t n) {
  unsigned char* dp = d;
  const unsigned char* sp = s;
  if (dp < sp || dp >= sp + n) return memcpy(d, s, n);
  while (n--) dp[n] = sp[n];
  return d;
}

int memcmp(const void* a, const void* b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}
