/**
 * Event loop implementation (see loop.h): epoll + signalfd, handlers dispatched per batch, deferred
 * frees run once the batch is done.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int handled_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGIO, SIGHUP, SIGUSR1};

static void handled_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++)
    sigaddset(set, handled_signals[i]);
}

static void on_signalfd(struct watch *w, uint32_t events) {
  (void)events;
  struct loop *l = w->ctx;
  struct signalfd_siginfo info[8];
  for (;;) {
    ssize_t n = read(w->fd, info, sizeof info);
    if (n <= 0) return;
    for (size_t i = 0; i < (size_t)n / sizeof info[0]; i++)
      if (l->on_signal) l->on_signal(l->signal_ctx, &info[i]);
  }
}

int loop_init(struct loop *l, signal_fn on_signal, void *ctx) {
  memset(l, 0, sizeof *l);
  l->on_signal = on_signal;
  l->signal_ctx = ctx;
  /* A write to a closed pipe or socket must surface as EPIPE, never kill the agent. */
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  handled_set(&set);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -errno;
  l->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (l->epfd < 0) return -errno;
  int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    int e = errno;
    close(l->epfd);
    return -e;
  }
  watch_init(&l->signal_watch, sfd, on_signalfd, l);
  return loop_watch(l, &l->signal_watch, EPOLLIN);
}

static void run_deferred(struct loop *l);

void loop_close(struct loop *l) {
  run_deferred(l);
  loop_unwatch(l, &l->signal_watch);
  close(l->signal_watch.fd);
  close(l->epfd);
}

void loop_reset_signals_for_child(void) {
  for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++)
    signal(handled_signals[i], SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, NULL);
}

void watch_init(struct watch *w, int fd, watch_fn fn, void *ctx) {
  memset(w, 0, sizeof *w);
  w->fd = fd;
  w->fn = fn;
  w->ctx = ctx;
}

int loop_watch(struct loop *l, struct watch *w, uint32_t events) {
  if (events == 0) {
    loop_unwatch(l, w);
    return 0;
  }
  if (w->registered && w->events == events) return 0;
  struct epoll_event ev = {.events = events, .data.ptr = w};
  int op = w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(l->epfd, op, w->fd, &ev) != 0) return -errno;
  w->registered = true;
  w->events = events;
  return 0;
}

void loop_unwatch(struct loop *l, struct watch *w) {
  if (!w->registered) return;
  epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  w->registered = false;
  w->events = 0;
}

void loop_defer_free(struct loop *l, free_fn fn, void *ptr) {
  struct deferred *d = malloc(sizeof *d);
  if (!d) {
    /* Out of memory: leaking is safer than a use-after-free. */
    return;
  }
  d->fn = fn;
  d->ptr = ptr;
  d->next = l->deferred;
  l->deferred = d;
}

static void run_deferred(struct loop *l) {
  while (l->deferred) {
    struct deferred *d = l->deferred;
    l->deferred = d->next;
    d->fn(d->ptr);
    free(d);
  }
}

int loop_run_once(struct loop *l, int timeout_ms) {
  struct epoll_event evs[64];
  int n = epoll_wait(l->epfd, evs, 64, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    struct watch *w = evs[i].data.ptr;
    /* A handler earlier in this batch may have unregistered w (its memory stays valid until the
     * deferred frees run below); skip its stale events. */
    if (!w->registered) continue;
    w->fn(w, evs[i].events);
  }
  run_deferred(l);
  return 0;
}
