/**
 * Timer list and timerfd (see timers.h). Due timers are taken off the list before their callback
 * runs, so a callback may re-arm or cancel any timer, itself included.
 */
#include "timers.h"

#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static struct timer *timers_head;
static struct watch timer_watch;

uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void rearm(void) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  uint64_t earliest = UINT64_MAX;
  for (struct timer *t = timers_head; t; t = t->next)
    if (t->due_ms < earliest) earliest = t->due_ms;
  if (earliest != UINT64_MAX) {
    uint64_t now = now_ms(), delay = earliest > now ? earliest - now : 1;
    its.it_value.tv_sec = (time_t)(delay / 1000);
    its.it_value.tv_nsec = (long)(delay % 1000) * 1000000L;
  }
  timerfd_settime(timer_watch.fd, 0, &its, NULL);
}

static void unlink_timer(struct timer *t) {
  if (t->prev) t->prev->next = t->next;
  else timers_head = t->next;
  if (t->next) t->next->prev = t->prev;
  t->next = t->prev = NULL;
  t->armed = false;
}

static void on_timerfd(struct watch *w, uint32_t events) {
  (void)events;
  uint64_t expirations;
  ssize_t ignored = read(w->fd, &expirations, sizeof expirations);
  (void)ignored;
  for (;;) {
    uint64_t now = now_ms();
    struct timer *due = NULL;
    for (struct timer *t = timers_head; t && !due; t = t->next)
      if (t->due_ms <= now) due = t;
    if (!due) break;
    unlink_timer(due);
    due->fn(due);
  }
  rearm();
}

int timers_init(struct loop *l) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return -1;
  watch_init(&timer_watch, fd, on_timerfd, NULL);
  return loop_watch(l, &timer_watch, EPOLLIN);
}

void timer_init(struct timer *t, void (*fn)(struct timer *t), void *ctx) {
  memset(t, 0, sizeof *t);
  t->fn = fn;
  t->ctx = ctx;
}

void timer_arm(struct timer *t, uint64_t delay_ms) {
  if (t->armed) unlink_timer(t);
  t->due_ms = now_ms() + delay_ms;
  t->next = timers_head;
  if (timers_head) timers_head->prev = t;
  timers_head = t;
  t->armed = true;
  rearm();
}

void timer_cancel(struct timer *t) {
  if (!t->armed) return;
  unlink_timer(t);
  rearm();
}
