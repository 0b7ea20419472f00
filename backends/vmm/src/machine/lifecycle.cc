/**
 * Machine lifecycle: threads, pause/resume, and ending exactly once.
 *
 * Ending: `finish()` records the first reason (later ones are ignored), sets `stopping_` and kicks
 * every vCPU. Each vCPU thread leaves its loop; the last one stops the event loop; the event thread
 * then delivers `exited`. So `exited` means no vCPU runs and no device does I/O any more.
 */
#include <pthread.h>
#include <signal.h>

#include "machine/machine.h"

namespace moat::machine {

void Machine::start() {
  if (started_.exchange(true)) throw MachineError("machine already started");
  // Device and vCPU threads must not take the process's signals (Node handles SIGINT etc.).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  vcpus_running_ = vcpus_.size();
  event_thread_ = std::thread([this] {
    loop_->run();
    MachineExit exit;
    {
      std::lock_guard lock(state_mutex_);
      exit = exit_;
      exited_delivered_ = true;
    }
    if (events_.exited) events_.exited(exit);
  });
  for (size_t i = 0; i < vcpus_.size(); ++i) vcpu_threads_.emplace_back([this, i] { vcpu_main(i); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Machine::finish(std::string reason, uint32_t status, std::string detail) {
  {
    // Kicks happen under the state lock, and a vCPU clears its kick only under it too, so a kick
    // can never be cleared by a vCPU that has not seen the reason for it.
    std::lock_guard lock(state_mutex_);
    if (finished_) return;
    finished_ = true;
    exit_ = {std::move(reason), status, std::move(detail)};
    paused_ = false;
    stopping_ = true;
    for (auto& vcpu : vcpus_) vcpu->kick();
  }
  state_cv_.notify_all();
}

void Machine::kill() { finish("killed", 0, ""); }

void Machine::pause() {
  std::unique_lock lock(state_mutex_);
  if (finished_ || !started_) return;
  paused_ = true;
  for (auto& vcpu : vcpus_) vcpu->kick();
  state_cv_.wait(lock, [&] { return finished_ || vcpus_parked_ == vcpus_running_.load(); });
}

void Machine::resume() {
  {
    std::lock_guard lock(state_mutex_);
    paused_ = false;
  }
  state_cv_.notify_all();
}

void Machine::vcpu_thread_done() {
  bool last;
  {
    std::lock_guard lock(state_mutex_);  // a pause() waiting for parked vCPUs re-checks the count
    last = vcpus_running_.fetch_sub(1) == 1;
  }
  state_cv_.notify_all();
  if (last) loop_->stop();
}

}  // namespace moat::machine
