/**
 * The agent's event loop: one epoll instance, a signalfd for the signals the agent handles
 * (SIGCHLD, SIGTERM, SIGINT, SIGIO, SIGHUP) and deferred frees.
 *
 * Objects embed a `struct watch` and register it; the handler gets the epoll events. An object that
 * is torn down inside a handler must not be freed right away (another event for it may be pending in
 * the same epoll batch): it calls loop_defer_free(), which runs after the batch.
 */
#ifndef MOAT_AGENT_LOOP_H
#define MOAT_AGENT_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

struct loop;
struct watch;

typedef void (*watch_fn)(struct watch *w, uint32_t events);
typedef void (*signal_fn)(void *ctx, const struct signalfd_siginfo *info);
typedef void (*free_fn)(void *ptr);

struct watch {
  int fd;
  watch_fn fn;
  void *ctx;
  uint32_t events;   /* currently registered events (0 = not registered) */
  bool registered;
};

struct deferred {
  struct deferred *next;
  free_fn fn;
  void *ptr;
};

struct loop {
  int epfd;
  struct watch signal_watch;
  signal_fn on_signal;
  void *signal_ctx;
  struct deferred *deferred;
  bool stop;
};

/** Blocks the handled signals, creates the epoll instance and signalfd. Returns 0 or -errno. */
int loop_init(struct loop *l, signal_fn on_signal, void *ctx);
void loop_close(struct loop *l);

/** Sets the signal mask a child should start with (everything unblocked, default dispositions). */
void loop_reset_signals_for_child(void);

void watch_init(struct watch *w, int fd, watch_fn fn, void *ctx);
/** Registers or updates w for `events` (0 unregisters but keeps the fd). Returns 0 or -errno. */
int loop_watch(struct loop *l, struct watch *w, uint32_t events);
/** Unregisters w (if registered). The fd is not closed. */
void loop_unwatch(struct loop *l, struct watch *w);

void loop_defer_free(struct loop *l, free_fn fn, void *ptr);

/** Waits up to timeout_ms (-1: forever) and dispatches one batch. Returns 0 or -errno. */
int loop_run_once(struct loop *l, int timeout_ms);

#endif
