/**
 * One-shot timers on a single timerfd (CLOCK_MONOTONIC, millisecond resolution). Used for call
 * deadlines (Open.timeout_ms) and the output drain grace after a process exits. The agent has at
 * most a few thousand timers, so a linear scan for the earliest is cheap and simple.
 */
#ifndef MOAT_AGENT_TIMERS_H
#define MOAT_AGENT_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

struct timer {
  struct timer *next, *prev;
  uint64_t due_ms;
  bool armed;
  void (*fn)(struct timer *t);
  void *ctx;
};

uint64_t now_ms(void);

int timers_init(struct loop *l);
void timer_init(struct timer *t, void (*fn)(struct timer *t), void *ctx);
/** (Re)arms t to fire once, `delay_ms` from now. */
void timer_arm(struct timer *t, uint64_t delay_ms);
void timer_cancel(struct timer *t);

#endif
